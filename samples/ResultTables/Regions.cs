using System;
using System.Collections.Generic;
using System.Linq;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>
    /// The generated regions of a Markdown file: everything between <c>&lt;!-- generated:NAME --&gt;</c> and
    /// <c>&lt;!-- /generated:NAME --&gt;</c> is the table NAME, written by this program from the committed result files;
    /// the rest of the file is left as it is.
    /// </summary>
    internal static partial class Regions
    {
        [GeneratedRegex(@"(?<open><!-- generated:(?<name>[a-z0-9-]+) -->\n)(?<body>.*?)(?<close><!-- /generated:\k<name> -->)", RegexOptions.Singleline)]
        private static partial Regex Region();

        /// <summary>The names of the regions in <paramref name="text"/>, in order.</summary>
        public static IReadOnlyList<string> Names(string text)
        {
            var names = new List<string>();
            foreach (Match m in Region().Matches(text)) names.Add(m.Groups["name"].Value);
            return names;
        }

        /// <summary><paramref name="text"/> with every region's body replaced by <paramref name="content"/>(name).</summary>
        /// <exception cref="InvalidDataException">A region names no known table.</exception>
        public static string Fill(string text, Func<string, string?> content, string path) =>
            Region().Replace(text, m =>
            {
                string name = m.Groups["name"].Value;
                string body = content(name) ?? throw new InvalidDataException($"{path}: no table is called '{name}'.");
                if (!body.EndsWith('\n')) body += "\n";
                return m.Groups["open"].Value + body + m.Groups["close"].Value;
            });

        /// <summary>Markdown table rows from cells.</summary>
        public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string? alignment = null)
        {
            var text = new StringBuilder();
            text.Append("| ").Append(string.Join(" | ", header)).Append(" |\n");
            text.Append(alignment ?? "|" + string.Concat(header.Select(_ => "---|"))).Append('\n');
            foreach (var row in rows) text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
            return text.ToString();
        }
    }
}
