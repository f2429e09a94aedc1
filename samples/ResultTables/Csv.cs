using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>A CSV file written by one of the samples: a header line and rows of plain comma-separated fields.</summary>
    internal sealed class Csv
    {
        private readonly Dictionary<string, int> columns;

        private Csv(string path, string[] header, List<string[]> rows)
        {
            Path = path;
            columns = header.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i);
            Rows = rows;
        }

        /// <summary>The file read.</summary>
        public string Path { get; }

        /// <summary>The rows after the header.</summary>
        public IReadOnlyList<string[]> Rows { get; }

        /// <summary>Reads <paramref name="path"/>.</summary>
        /// <exception cref="InvalidDataException">No header, or a row with another number of fields.</exception>
        public static Csv Read(string path)
        {
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
            if (lines.Count == 0) throw new InvalidDataException($"{path} is empty.");
            var header = lines[0].Split(',');
            var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
            foreach (var row in rows)
            {
                if (row.Length != header.Length)
                    throw new InvalidDataException($"{path}: a row has {row.Length} fields, the header {header.Length}.");
            }
            return new Csv(path, header, rows);
        }

        /// <summary>Whether the file has the column <paramref name="name"/>.</summary>
        public bool Has(string name) => columns.ContainsKey(name);

        /// <summary>The text of column <paramref name="name"/> in <paramref name="row"/>.</summary>
        /// <exception cref="InvalidDataException">No such column.</exception>
        public string Text(string[] row, string name) =>
            columns.TryGetValue(name, out int i) ? row[i] : throw new InvalidDataException($"{Path} has no column '{name}'.");

        /// <summary>The number in column <paramref name="name"/>; null when the field is empty.</summary>
        public double? Number(string[] row, string name)
        {
            string text = Text(row, name);
            return text.Length == 0 ? null : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }
}
