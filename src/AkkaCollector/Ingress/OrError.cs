using System.Diagnostics.CodeAnalysis;

namespace AkkaCollector.Ingress;

/// <summary>A step's result: its value, or the <see cref="IngressError"/> the producer will be answered with.</summary>
public readonly struct OrError<T> where T : class
{
    private readonly T? _value;
    private readonly IngressError? _error;

    private OrError(T? value, IngressError? error) => (_value, _error) = (value, error);

    public static implicit operator OrError<T>(T value) => new(value, null);

    public static implicit operator OrError<T>(IngressError error) => new(null, error);

    public bool TryGetValue([NotNullWhen(true)] out T? value, [NotNullWhen(false)] out IngressError? error)
    {
        value = _value;
        error = _error;
        return value is not null;
    }
}
