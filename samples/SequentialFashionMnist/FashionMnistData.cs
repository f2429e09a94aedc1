using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>
    /// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 60,000 training and 10,000 test images of 28×28 grey pixels in ten
    /// clothing classes, read from the four IDX files. Pixels are scaled to [0, 1] and then standardised with the mean
    /// and standard deviation of the training images used (so no test statistic leaks into training).
    /// </summary>
    internal sealed class FashionMnistData : IDisposable
    {
        /// <summary>The ten class names, by label.</summary>
        public static readonly IReadOnlyList<string> ClassNames = new[]
        {
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        };

        /// <summary>The number of training images of the full data set.</summary>
        public const int FullTrainCount = 60000;

        /// <summary>The side of an image in pixels.</summary>
        public const int Side = 28;

        private static readonly string[] Files =
        {
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
        };

        private FashionMnistData(Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels,
            double mean, double std)
        {
            TrainImages = trainImages;
            TrainLabels = trainLabels;
            TestImages = testImages;
            TestLabels = testLabels;
            Mean = mean;
            Std = std;
        }

        /// <summary>Training images, (N, 784) float32, standardised.</summary>
        public Tensor TrainImages { get; }

        /// <summary>Training labels, (N) int64 in 0..9.</summary>
        public Tensor TrainLabels { get; }

        /// <summary>Test images, (N, 784) float32, standardised with the training statistics.</summary>
        public Tensor TestImages { get; }

        /// <summary>Test labels, (N) int64 in 0..9.</summary>
        public Tensor TestLabels { get; }

        /// <summary>The mean of the training pixels after scaling to [0, 1].</summary>
        public double Mean { get; }

        /// <summary>The standard deviation of the training pixels after scaling to [0, 1].</summary>
        public double Std { get; }

        /// <summary>The number of training images.</summary>
        public int TrainCount => (int)TrainImages.shape[0];

        /// <summary>The number of test images.</summary>
        public int TestCount => (int)TestImages.shape[0];

        /// <summary>The IDX files missing from <paramref name="directory"/> (each may be gzip-compressed or not).</summary>
        /// <param name="directory">The data folder.</param>
        public static IReadOnlyList<string> MissingFiles(string directory) =>
            Files.Where(f => Resolve(directory, f) is null).Select(f => f + ".gz").ToList();

        /// <summary>
        /// Reads the four files from <paramref name="directory"/>, keeps the first <paramref name="trainLimit"/>
        /// training and <paramref name="testLimit"/> test images when given, and standardises the pixels.
        /// </summary>
        /// <param name="directory">The data folder (check <see cref="MissingFiles"/> first).</param>
        /// <param name="trainLimit">How many training images to keep; null for all.</param>
        /// <param name="testLimit">How many test images to keep; null for all.</param>
        public static FashionMnistData Load(string directory, int? trainLimit, int? testLimit)
        {
            using var scope = torch.NewDisposeScope();         // frees the byte tensors
            var (trainPixels, trainLabels) = ReadSplit(directory, "train", trainLimit);
            var (testPixels, testLabels) = ReadSplit(directory, "t10k", testLimit);
            var train = trainPixels.to(ScalarType.Float32).div_(255);
            var test = testPixels.to(ScalarType.Float32).div_(255);
            double mean = train.mean().item<float>();
            double std = train.std().item<float>();
            return new FashionMnistData(
                train.sub_(mean).div_(std).MoveToOuterDisposeScope(),
                trainLabels.MoveToOuterDisposeScope(),
                test.sub_(mean).div_(std).MoveToOuterDisposeScope(),
                testLabels.MoveToOuterDisposeScope(),
                mean, std);
        }

        /// <summary>
        /// The fixed pixel order of permuted mode: a permutation of 0..783 drawn by a Fisher–Yates shuffle with
        /// <c>System.Random(seed)</c> (a seeded <see cref="Random"/> gives the same sequence on every .NET version and
        /// machine), so every model and run with the same seed reads the pixels in the same order.
        /// </summary>
        /// <param name="seed">The permutation seed (<see cref="Options.PermutationSeed"/>).</param>
        public static long[] PixelOrder(int seed)
        {
            var order = Enumerable.Range(0, Side * Side).Select(i => (long)i).ToArray();
            new Random(seed).Shuffle(order);
            return order;
        }

        /// <summary>
        /// Turns a batch of images (B, 784) into the time-major sequences the models read: (28, B, 28) in row mode
        /// (step t is image row t), (784, B, 1) in the pixel modes (step t is pixel t in reading order, or pixel
        /// <paramref name="pixelOrder"/>[t] in permuted mode).
        /// </summary>
        /// <param name="images">Standardised images, (B, 784).</param>
        /// <param name="mode">Row, pixel or permuted.</param>
        /// <param name="pixelOrder">The pixel order (int64, 784 entries); required in permuted mode, ignored otherwise.</param>
        public static Tensor ToSequences(Tensor images, SequenceMode mode, Tensor? pixelOrder = null)
        {
            long batch = images.shape[0];
            var sequences = mode switch
            {
                SequenceMode.Row => images.view(batch, Side, Side),
                SequenceMode.Pixel => images.view(batch, Side * Side, 1),
                _ => images.index_select(1, pixelOrder ?? throw new ArgumentNullException(nameof(pixelOrder)))
                    .view(batch, Side * Side, 1),
            };
            return sequences.transpose(0, 1).contiguous();
        }

        /// <summary>Disposes the four tensors.</summary>
        public void Dispose()
        {
            TrainImages.Dispose();
            TrainLabels.Dispose();
            TestImages.Dispose();
            TestLabels.Dispose();
        }

        private static (Tensor pixels, Tensor labels) ReadSplit(string directory, string prefix, int? limit)
        {
            string imagesPath = Resolve(directory, prefix + "-images-idx3-ubyte")
                ?? throw new FileNotFoundException($"{prefix}-images-idx3-ubyte(.gz) is missing from {directory}.");
            string labelsPath = Resolve(directory, prefix + "-labels-idx1-ubyte")
                ?? throw new FileNotFoundException($"{prefix}-labels-idx1-ubyte(.gz) is missing from {directory}.");
            var (imageDims, pixels) = IdxReader.ReadBytes(imagesPath, 3);
            var (labelDims, labels) = IdxReader.ReadBytes(labelsPath, 1);
            if (imageDims[1] != Side || imageDims[2] != Side)
                throw new InvalidDataException($"{imagesPath} holds {imageDims[1]}×{imageDims[2]} images, not {Side}×{Side}.");
            if (labelDims[0] != imageDims[0])
                throw new InvalidDataException($"{imagesPath} has {imageDims[0]} images but {labelsPath} has {labelDims[0]} labels.");
            if (labels.Any(l => l > 9))
                throw new InvalidDataException($"{labelsPath} holds a label outside 0..9.");

            int count = Math.Min(imageDims[0], limit ?? int.MaxValue);
            var pixelTensor = torch.tensor(pixels.AsSpan(0, count * Side * Side).ToArray(), new long[] { count, Side * Side });
            var labelTensor = torch.tensor(labels.AsSpan(0, count).ToArray().Select(l => (long)l).ToArray());
            return (pixelTensor, labelTensor);
        }

        private static string? Resolve(string directory, string name)
        {
            foreach (var candidate in new[] { name + ".gz", name })
            {
                string path = Path.Combine(directory, candidate);
                if (File.Exists(path)) return path;
            }
            return null;
        }
    }
}
