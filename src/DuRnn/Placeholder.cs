namespace DuRnn
{
    internal static class Probe { }
}
