using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// The symbols of the model: the sorted set of distinct characters (Unicode code points) of the whole text, so
    /// that every character of every part has an index (the validation and test parts never hold an unknown one).
    /// </summary>
    internal sealed class Vocabulary
    {
        private readonly int[] symbols;
        private readonly Dictionary<int, int> index;

        /// <summary>Indexes <paramref name="symbols"/>, which are distinct and sorted.</summary>
        private Vocabulary(int[] symbols)
        {
            this.symbols = symbols;
            index = symbols.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        }

        /// <summary>V, the number of symbols.</summary>
        public int Size => symbols.Length;

        /// <summary>The vocabulary of <paramref name="characters"/>: its distinct characters in code-point order.</summary>
        public static Vocabulary Of(IEnumerable<int> characters) =>
            new Vocabulary(characters.Distinct().OrderBy(c => c).ToArray());

        /// <summary>Whether <paramref name="character"/> (a code point) is a symbol.</summary>
        public bool Contains(int character) => index.ContainsKey(character);

        /// <summary>The index of every character of <paramref name="characters"/>, which must all be symbols.</summary>
        /// <exception cref="KeyNotFoundException">A character is not in the vocabulary.</exception>
        public long[] Encode(IReadOnlyList<int> characters)
        {
            var ids = new long[characters.Count];
            for (int i = 0; i < ids.Length; i++) ids[i] = index[characters[i]];
            return ids;
        }

        /// <summary>The characters of <paramref name="text"/> that are not symbols, each once, in order of appearance.</summary>
        public IReadOnlyList<int> Unknown(string text) =>
            text.EnumerateRunes().Select(r => r.Value).Where(c => !Contains(c)).Distinct().ToList();

        /// <summary>The text of symbol <paramref name="id"/>.</summary>
        public string Decode(int id) => char.ConvertFromUtf32(symbols[id]);

        /// <summary>The symbols as one line, control characters and spaces written visibly (↵ for a newline, ␠ for a space).</summary>
        public string Describe() => string.Concat(symbols.Select(Visible));

        /// <summary>
        /// Writes the symbols to <paramref name="path"/>, one line each: index, code point, and the character (escaped
        /// when invisible).
        /// </summary>
        /// <returns>The path written.</returns>
        public string Write(string path)
        {
            var text = new StringBuilder("index\tcode_point\tcharacter\n");
            for (int i = 0; i < symbols.Length; i++)
                text.Append(string.Create(CultureInfo.InvariantCulture, $"{i}\tU+{symbols[i]:X4}\t{Visible(symbols[i])}\n"));
            File.WriteAllText(path, text.ToString());
            return path;
        }

        /// <summary>A character as it can be shown on one line.</summary>
        public static string Visible(int c) => c switch
        {
            '\n' => "↵",
            '\r' => "␍",
            '\t' => "⇥",
            ' ' => "␠",
            _ when c < 0x20 || c == 0x7f => string.Create(CultureInfo.InvariantCulture, $"\\u{c:X4}"),
            _ => char.ConvertFromUtf32(c),
        };
    }
}
