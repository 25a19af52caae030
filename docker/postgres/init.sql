-- One spool database per zone, shared by the zone's collectors: each journals under its own Collector:InstanceId
-- (spool-INSTANCE-N) and holds its spools' advisory locks; a collector that is gone has its spools taken over by
-- the others (docs/deploy.md, "Shared PostgreSQL spool").
CREATE DATABASE spool_b;
