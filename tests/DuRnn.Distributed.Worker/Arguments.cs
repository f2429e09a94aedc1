using System;
using System.Collections.Generic;
using System.Globalization;

namespace DuRnn.Distributed.Worker
{
    /// <summary>The worker's command line: a mode, then <c>--name value</c> pairs and <c>--flag</c>s.</summary>
    internal sealed class Arguments
    {
        private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);

        /// <summary>Parses <paramref name="args"/>: the first is the mode.</summary>
        public Arguments(string[] args)
        {
            Mode = args.Length > 0 ? args[0] : "";
            for (int i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal))
                    throw new ArgumentException($"unexpected argument '{args[i]}'");
                string name = args[i][2..];
                string? value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
                values[name] = value;
            }
        }

        /// <summary>The mode: train, mismatch, info or bench.</summary>
        public string Mode { get; }

        /// <summary>Whether <c>--name</c> was given.</summary>
        public bool Flag(string name) => values.ContainsKey(name);

        /// <summary>The integer after <c>--name</c>, or <paramref name="fallback"/>.</summary>
        public long Long(string name, long fallback) =>
            values.TryGetValue(name, out var v) && v is not null ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

        /// <summary>The text after <c>--name</c>, or <paramref name="fallback"/>.</summary>
        public string Text(string name, string fallback) =>
            values.TryGetValue(name, out var v) && v is not null ? v : fallback;
    }
}
