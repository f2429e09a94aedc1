using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace DuRnn.Samples
{
    /// <summary>
    /// Where a sample's files go by default (this file is linked into each sample): the sample's source folder is
    /// recorded at build time as the assembly metadata <c>ProjectDirectory</c> (each sample's .csproj), so a
    /// sample started with <c>dotnet run</c> writes into samples/NAME/out, ignored by git, whatever the working folder.
    /// </summary>
    internal static class SampleFolders
    {
        /// <summary>The sample's source folder when it was recorded at build time and still exists; otherwise null.</summary>
        public static string? ProjectDirectory
        {
            get
            {
                string? dir = typeof(SampleFolders).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                    .FirstOrDefault(a => a.Key == "ProjectDirectory")?.Value;
                return dir is not null && Directory.Exists(dir) ? dir : null;
            }
        }

        /// <summary>samples/NAME/out when the sample's source folder still exists; ./out (under the working folder) otherwise.</summary>
        public static string DefaultOutputDirectory() =>
            Path.Combine(ProjectDirectory ?? Environment.CurrentDirectory, "out");
    }
}
