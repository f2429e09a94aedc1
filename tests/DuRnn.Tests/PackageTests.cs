using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Xml.Linq;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace DuRnn.Tests
{
    /// <summary>
    /// The package in use: pack DuRnn, restore a tiny consumer project against the .nupkg from a local folder feed,
    /// build it and run it — the way users get the library.
    /// </summary>
    [Collection("Sequential")]
    public sealed class PackageTests
    {
        private readonly ITestOutputHelper _output;

        public PackageTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void PackedLibraryRestoresBuildsAndRunsInAConsumerProject()
        {
            string root = Path.GetDirectoryName(ApiTests.FindRepositoryFile("DuRnn.sln"))!;
            string work = Path.Combine(Path.GetTempPath(), $"durnn-package-{Guid.NewGuid():N}");
            // A version of its own, so the NuGet cache can never serve an older build of the same version.
            string version = $"0.0.0-test{DateTime.UtcNow:yyyyMMddHHmmss}";
            string feed = Path.Combine(work, "feed");
            string consumer = Path.Combine(work, "consumer");
            Directory.CreateDirectory(consumer);
            try
            {
                Run("dotnet", $"pack \"{Path.Combine(root, "src", "DuRnn")}\" -c Release -o \"{feed}\" -p:Version={version}", root);
                string nupkg = Path.Combine(feed, $"DuRnn.{version}.nupkg");
                File.Exists(nupkg).Should().BeTrue();
                File.Exists(Path.Combine(feed, $"DuRnn.{version}.snupkg")).Should().BeTrue("a symbols package is produced");
                CheckPackageContents(nupkg, version);

                File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                    <configuration>
                      <packageSources>
                        <add key="local" value="{feed}" />
                      </packageSources>
                    </configuration>
                    """);
                File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                    <Project Sdk="Microsoft.NET.Sdk">
                      <PropertyGroup>
                        <OutputType>Exe</OutputType>
                        <TargetFramework>net10.0</TargetFramework>
                        <Nullable>enable</Nullable>
                        <ImplicitUsings>enable</ImplicitUsings>
                      </PropertyGroup>
                      <ItemGroup>
                        <PackageReference Include="DuRnn" Version="{version}" />
                        <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                      </ItemGroup>
                      <!-- Debian 12 only: the README explains this import. -->
                      <Import Project="{Path.Combine(root, ".build", "LibTorchSharpNativeFix.targets")}" />
                    </Project>
                    """);
                File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
                    using DuRnn;
                    using TorchSharp;
                    using static TorchSharp.torch;

                    torch.manual_seed(1);
                    var model = new DuRNN(inputSize: 2, hiddenSize: 8, numLayers: 2, maxSequenceLength: 20);
                    var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
                    using (var scope = NewDisposeScope())
                    {
                        var (output, state) = model.call(torch.rand(20, 4, 2));
                        var loss = output.pow(2).mean();
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        model.ApplyConstraints();
                        Console.WriteLine($"consumer ok: output {string.Join("x", output.shape)}, loss {loss.item<float>():F6}");
                    }
                    """);
                string output = Run("dotnet", "run -c Release", consumer);
                output.Should().Contain("consumer ok: output 20x4x8");
            }
            finally
            {
                try { Directory.Delete(work, recursive: true); } catch (IOException) { }
                string cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "durnn", version);
                try { if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true); } catch (IOException) { }
            }
        }

        private static void CheckPackageContents(string nupkg, string version)
        {
            using var zip = ZipFile.OpenRead(nupkg);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            names.Should().Contain("lib/net8.0/DuRnn.dll");
            names.Should().Contain("lib/net8.0/DuRnn.xml", "XML docs ship with the package");
            names.Should().Contain("README.md");
            names.Should().Contain("LICENSE");
            using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).Open();
            var nuspec = XDocument.Load(nuspecStream);
            XNamespace ns = nuspec.Root!.GetDefaultNamespace();
            var metadata = nuspec.Root.Element(ns + "metadata")!;
            string Field(string name) => metadata.Element(ns + name)?.Value ?? "";
            Field("id").Should().Be("DuRnn");
            Field("version").Should().Be(version);
            Field("description").Should().Contain("Dual Recurrent Neural Networks");
            Field("tags").Should().Contain("TorchSharp").And.Contain("IndRNN");
            Field("license").Should().Be("MIT");
            metadata.Element(ns + "license")!.Attribute("type")!.Value.Should().Be("expression");
            Field("readme").Should().Be("README.md");
            Field("authors").Should().NotBeNullOrWhiteSpace();
            var dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Distinct().ToList();
            dependencies.Should().Equal(new[] { "TorchSharp" }, "the library depends on the TorchSharp bindings only");
        }

        private string Run(string file, string arguments, string directory)
        {
            var info = new ProcessStartInfo(file, arguments)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            info.Environment["DOTNET_NOLOGO"] = "1";
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {arguments} did not finish within 8 minutes.");
            }
            string output = stdout.Result + stderr.Result;
            _output.WriteLine($"$ {file} {arguments}\n{output}");
            process.ExitCode.Should().Be(0, $"'{file} {arguments}' must succeed; it printed:\n{output}");
            return output;
        }
    }
}
