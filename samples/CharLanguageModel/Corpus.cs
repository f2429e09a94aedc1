using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// The text the models learn, as a sequence of Unicode characters (code points, so that a character outside the
    /// Basic Multilingual Plane is one symbol, not two UTF-16 halves): by default the King James Bible as Debian's
    /// <c>bible-kjv</c> package prints it, or any UTF-8 file.
    /// </summary>
    internal sealed class Corpus
    {
        /// <summary>The program of Debian's bible-kjv package.</summary>
        public const string BibleProgram = "bible";

        /// <summary>The arguments that make <see cref="BibleProgram"/> print the whole Bible, Genesis 1:1 to Revelation 22:21.</summary>
        public static readonly IReadOnlyList<string> BibleArguments = new[] { "-f", "Gen1:1-Rev22:21" };

        /// <summary>Holds a text read by <see cref="FromBible"/> or <see cref="FromFile"/>.</summary>
        private Corpus(string source, IReadOnlyList<int> characters)
        {
            Source = source;
            Characters = characters;
        }

        /// <summary>Where the text came from, for the report.</summary>
        public string Source { get; }

        /// <summary>The text, one Unicode code point per entry.</summary>
        public IReadOnlyList<int> Characters { get; }

        /// <summary>
        /// A 64-bit FNV-1a hash of the characters, in hexadecimal: part of a checkpoint's fingerprint, so that a
        /// checkpoint is never resumed on another text.
        /// </summary>
        public string Hash()
        {
            ulong hash = 14695981039346656037UL;
            foreach (int c in Characters)
            {
                hash ^= (uint)c;
                hash *= 1099511628211UL;
            }
            return hash.ToString("x16", CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// The full path of <see cref="BibleProgram"/> when it is on the PATH (as <c>command -v bible</c> would find it),
        /// else null.
        /// </summary>
        public static string? FindBibleProgram()
        {
            string? path = Environment.GetEnvironmentVariable("PATH");
            if (string.IsNullOrEmpty(path)) return null;
            foreach (string directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(directory, BibleProgram);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>
        /// Runs <c>bible -f "Gen1:1-Rev22:21"</c> (about 4.4 million characters) and keeps the first
        /// <paramref name="maxChars"/> characters of its output when given.
        /// </summary>
        /// <param name="program">The program found by <see cref="FindBibleProgram"/>.</param>
        /// <param name="maxChars">How many characters to keep; null for all.</param>
        /// <exception cref="IOException">The program failed or printed nothing.</exception>
        public static Corpus FromBible(string program, int? maxChars)
        {
            var start = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                UseShellExecute = false,
            };
            foreach (string argument in BibleArguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start) ?? throw new IOException($"Could not start {program}.");
            var error = process.StandardError.ReadToEndAsync();   // read both pipes, so neither can fill up and block
            string text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || text.Length == 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"'{program} {string.Join(' ', BibleArguments)}' exited with code {process.ExitCode} after printing {text.Length} characters: {error.Result.Trim()}"));
            }
            return new Corpus($"the King James Bible ('{BibleProgram} {BibleArguments[0]} \"{BibleArguments[1]}\"', Debian's bible-kjv)",
                Decode(text, maxChars));
        }

        /// <summary>Reads the UTF-8 file <paramref name="path"/> (invalid bytes become U+FFFD).</summary>
        /// <param name="path">The file.</param>
        /// <param name="maxChars">How many characters to keep; null for all.</param>
        public static Corpus FromFile(string path, int? maxChars) =>
            new Corpus(path, Decode(File.ReadAllText(path, Encoding.UTF8), maxChars));

        /// <summary>The code points of <paramref name="text"/>, at most <paramref name="maxChars"/> of them.</summary>
        private static IReadOnlyList<int> Decode(string text, int? maxChars)
        {
            var characters = new List<int>(Math.Min(text.Length, maxChars ?? int.MaxValue));
            foreach (var rune in text.EnumerateRunes())
            {
                if (characters.Count == maxChars) break;
                characters.Add(rune.Value);
            }
            return characters;
        }
    }
}
