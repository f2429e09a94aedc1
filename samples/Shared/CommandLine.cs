using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DuRnn.Samples
{
    /// <summary>
    /// What the samples' command lines share (this file is linked into each sample): running the sample's
    /// Spectre.Console.Cli command with its exit codes, and reading option values so that an error names the option.
    /// </summary>
    /// <remarks>
    /// The settings classes take values as text and read them here (numbers with the invariant culture), because
    /// Spectre.Console.Cli's own conversion error ("Failed to convert 'abc' to Int32.") does not say which option was
    /// wrong; the readers throw <see cref="ArgumentException"/>, which <see cref="Validate"/> turns into the
    /// settings' validation error.
    /// </remarks>
    internal static class CommandLine
    {
        /// <summary>The exit code of a command line that does not parse or does not validate.</summary>
        public const int ExitBadArguments = 2;

        /// <summary>
        /// The exit code of a run stopped by a file that does not fit it (<see cref="System.IO.InvalidDataException"/>:
        /// a checkpoint made with other settings, a damaged CSV or data file), the same code --plot-only returns for one.
        /// </summary>
        public const int ExitBadFile = 1;

        /// <summary>
        /// Runs <typeparamref name="TCommand"/> as the only command: --help (or -h) prints the generated help and
        /// returns 0; an unknown option, a missing value or a failed validation prints the error to the standard
        /// error and returns <see cref="ExitBadArguments"/>; a file that does not fit the run
        /// (<see cref="System.IO.InvalidDataException"/>, whose message names the file and what is wrong) prints that
        /// message and returns <see cref="ExitBadFile"/>; otherwise returns what the command returns. Other exceptions
        /// thrown by the command itself are not caught.
        /// </summary>
        /// <param name="args">The arguments after the program name.</param>
        /// <param name="usage">How the sample is started, shown in the help's usage line and examples.</param>
        /// <param name="description">What the sample does, shown at the top of the help.</param>
        /// <param name="examples">Command lines (without <paramref name="usage"/>) shown in the help.</param>
        public static int Run<TCommand>(string[] args, string usage, string description, params string[][] examples)
            where TCommand : class, ICommand
        {
            var app = new CommandApp<TCommand>().WithDescription(description);
            app.Configure(config =>
            {
                config.SetApplicationName(usage);
                config.TrimTrailingPeriods(false);
                // Not UseStrictParsing(): in strict mode Spectre.Console.Cli 0.57 retries a failed parse with its
                // internal default-command name inserted, so "--steps" without a value got "__default_command" as
                // its value. Unknown options are rejected by SampleCommand instead.
                config.PropagateExceptions();
                foreach (var example in examples)
                    config.AddExample(example);
            });
            try
            {
                return app.Run(args);
            }
            catch (CommandAppException e)
            {
                var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                if (e.Pretty is { } pretty)
                    error.Write(pretty);
                else
                    error.MarkupLine($"[red]Error:[/] {e.Message.EscapeMarkup()}");
                return ExitBadArguments;
            }
            catch (System.IO.InvalidDataException e)
            {
                Console.Error.WriteLine($"Error: {e.Message}");
                return ExitBadFile;
            }
        }

        /// <summary>
        /// The validation result of settings whose reading, <paramref name="read"/>, throws
        /// <see cref="ArgumentException"/> with a message naming the option at the first bad value.
        /// </summary>
        public static ValidationResult Validate(Action read)
        {
            try
            {
                read();
                return ValidationResult.Success();
            }
            catch (ArgumentException e)
            {
                return ValidationResult.Error(e.Message);
            }
        }

        /// <summary>The integer given as <paramref name="option"/>, or <paramref name="fallback"/> when not given.</summary>
        /// <exception cref="ArgumentException">Not an integer, or below <paramref name="min"/>.</exception>
        public static int Int(string? text, string option, int fallback, int min) =>
            Int(text, option, (int?)fallback, min)!.Value;

        /// <summary>The integer given as <paramref name="option"/>, or <paramref name="fallback"/> when not given.</summary>
        /// <exception cref="ArgumentException">Not an integer, or below <paramref name="min"/>.</exception>
        public static int? Int(string? text, string option, int? fallback, int min)
        {
            if (text is null) return fallback;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                throw new ArgumentException($"{option} needs an integer; got '{text}'.");
            if (v < min)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option} must be at least {min}; got {v}."));
            return v;
        }

        /// <summary>
        /// The finite number given as <paramref name="option"/>, or <paramref name="fallback"/> when not given; it
        /// must be positive, or also 0 when <paramref name="allowZero"/>.
        /// </summary>
        /// <exception cref="ArgumentException">Not a finite number, or out of range.</exception>
        public static double Double(string? text, string option, double fallback, bool allowZero) =>
            Double(text, option, (double?)fallback, allowZero)!.Value;

        /// <summary>
        /// The finite number given as <paramref name="option"/>, or <paramref name="fallback"/> (which may be null) when
        /// not given; it must be positive, or also 0 when <paramref name="allowZero"/>.
        /// </summary>
        /// <exception cref="ArgumentException">Not a finite number, or out of range.</exception>
        public static double? Double(string? text, string option, double? fallback, bool allowZero)
        {
            if (text is null) return fallback;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new ArgumentException($"{option} needs a number; got '{text}'.");
            if (v < 0 || (v == 0 && !allowZero))
                throw new ArgumentException($"{option} must be {(allowZero ? "≥ 0" : "> 0")}; got {text}.");
            return v;
        }

        /// <summary>An enum value's name in lower case, as the samples write it on the command line and in files.</summary>
        public static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

        /// <summary>
        /// The value of <typeparamref name="T"/> whose <paramref name="name"/> (any case) was given as
        /// <paramref name="option"/>, or <paramref name="fallback"/> when not given.
        /// </summary>
        /// <exception cref="ArgumentException">Not one of the names.</exception>
        public static T Choice<T>(string? text, string option, Func<T, string> name, T fallback) where T : struct, Enum
        {
            if (text is null) return fallback;
            foreach (var value in Enum.GetValues<T>())
            {
                if (string.Equals(name(value), text, StringComparison.OrdinalIgnoreCase))
                    return value;
            }
            string[] names = Enum.GetValues<T>().Select(name).ToArray();
            throw new ArgumentException($"{option}: unknown value '{text}'; use {string.Join(", ", names[..^1])} or {names[^1]}.");
        }

        /// <summary>
        /// The values given as <paramref name="option"/>, repeated and/or comma-separated, in order and without
        /// repeats; <paramref name="fallback"/> when none was given.
        /// </summary>
        /// <exception cref="ArgumentException">A part that is not one of the names.</exception>
        public static IReadOnlyList<T> Choices<T>(IEnumerable<string>? texts, string option, Func<T, string> name,
            IReadOnlyList<T> fallback) where T : struct, Enum
        {
            var values = (texts ?? Array.Empty<string>())
                .SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(part => Choice(part, option, name, default))
                .Distinct()
                .ToArray();
            return values.Length > 0 ? values : fallback;
        }
    }

    /// <summary>A sample's command: like <see cref="Command{TSettings}"/>, but an unknown option is an error.</summary>
    /// <typeparam name="TSettings">The sample's options.</typeparam>
    internal abstract class SampleCommand<TSettings> : Command<TSettings> where TSettings : CommandSettings
    {
        /// <inheritdoc/>
        public override ValidationResult Validate(CommandContext context, TSettings settings)
        {
            if (context.Remaining.Parsed.FirstOrDefault() is { } option)
                return ValidationResult.Error($"Unknown option '{option.Key}'; see --help.");
            if (context.Remaining.Raw.Count > 0)
                return ValidationResult.Error($"Unexpected argument '{context.Remaining.Raw[0]}'; see --help.");
            return ValidationResult.Success();
        }
    }
}
