using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The one place where weights are checked and copied into a module: every key and shape is checked first, and
    /// on a mismatch nothing is copied and one <see cref="ArgumentException"/> names every missing key, unexpected
    /// key and shape mismatch. Values are copied in place under no_grad with <c>copy_</c>, as PyTorch's
    /// <c>load_state_dict</c> does: parameters keep their identity, <c>requires_grad</c>, device and dtype, and a
    /// tensor of another floating-point dtype is converted (an integer, boolean or complex tensor for a floating-point
    /// parameter is refused: it is not the same model's weight).
    /// </summary>
    internal static class StateDicts
    {
        internal static (IList<string> missing, IList<string> unexpected) CheckAndCopy(
            torch.nn.Module module, IReadOnlyDictionary<string, Tensor> source, bool strict, IList<string>? skip, string argument)
        {
            skip ??= Array.Empty<string>();
            var destination = module.state_dict();
            var missing = destination.Keys.Where(k => !skip.Contains(k) && !source.ContainsKey(k)).ToList();
            // Missing keys in the module's order; unexpected ones sorted (a Hashtable has no meaningful order).
            var unexpected = source.Keys.Where(k => !skip.Contains(k) && !destination.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
            var problems = new List<string>();
            if (strict && missing.Count > 0)
                problems.Add($"missing key{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(k => $"'{k}' {Check.Shape(destination[k])}"))}");
            if (strict && unexpected.Count > 0)
                problems.Add($"unexpected key{(unexpected.Count > 1 ? "s" : "")} {string.Join(", ", unexpected.Select(k => $"'{k}' {Check.Shape(source[k])}"))}");
            foreach (var (key, target) in destination)
            {
                if (skip.Contains(key) || !source.TryGetValue(key, out var value)) continue;
                if (value.IsInvalid)
                    problems.Add($"'{key}' is a disposed tensor");
                else if (!value.shape.SequenceEqual(target.shape))
                    problems.Add($"'{key}' has shape {Check.Shape(value)} in the state dict but {Check.Shape(target)} in the module");
                else if (Check.IsFloatingPoint(target.dtype) && !Check.IsFloatingPoint(value.dtype))
                    problems.Add($"'{key}' has dtype {value.dtype} in the state dict but {target.dtype} in the module (a floating-point dtype is needed)");
            }
            if (problems.Count > 0)
            {
                string hint = module switch
                {
                    DuRNN => " Was it saved from a DuRNN with other sizes (inputSize, hiddenSize, shortTermSize, numLayers) or options (batchNorm, bidirectional)?",
                    IndRNN => " Was it saved from an IndRNN with other sizes (inputSize, hiddenSize, numLayers) or options (batchNorm, bidirectional)?",
                    _ => "",
                };
                throw new ArgumentException(
                    $"The state dict does not fit this {module.GetName()} ({string.Join("; ", problems)}); nothing was loaded.{hint}", argument);
            }

            using (torch.no_grad())
            {
                foreach (var (key, target) in destination)
                    if (!skip.Contains(key) && source.TryGetValue(key, out var value)) target.copy_(value);
            }
            return (missing, unexpected);
        }
    }
}
