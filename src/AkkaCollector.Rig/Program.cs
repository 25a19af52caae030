System.Console.WriteLine("rig");
