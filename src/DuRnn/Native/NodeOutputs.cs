using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// Calls a fused node's <c>apply</c> so that a gradient of an output the loss does not use can be materialised.
    /// For each output, TorchSharp's node keeps a template tensor (<c>empty_like</c> of the output, no storage touched)
    /// from which it makes zeros when that output's gradient is undefined; it creates the templates in the dispose
    /// scope current at <c>apply</c>, so a layer's scope would dispose them when the layer returns, and the backward
    /// would then read a disposed tensor (<c>Tensor invalid -- empty handle</c>). Turning materialisation off instead
    /// hands the backward TorchSharp wrappers of undefined tensors, which TorchSharp counts as live for ever.
    /// So <see cref="Apply"/> runs <c>apply</c> in a scope of its own, detaches the templates (the node disposes them
    /// itself when the graph is freed), disposes the forward's temporaries and hands the outputs to the caller's scope.
    /// A node's forward calls <see cref="ForwardDone"/> last, which marks what it created.
    /// The sets compare by reference: TorchSharp's <c>Tensor.Equals</c> is <c>torch.equal</c>, a scan of both tensors
    /// that is false for a tensor holding NaN even against itself (such outputs were once taken for templates and
    /// leaked; <c>ApiTests.CallsOnNaNLeakNothing</c>).
    /// </summary>
    internal static class NodeOutputs
    {
        [ThreadStatic]
        private static DisposeScope? t_scope;

        [ThreadStatic]
        private static HashSet<IDisposable>? t_forward;

        /// <summary>Runs <paramref name="apply"/> as described above; returns its outputs, owned by the caller's scope.</summary>
        internal static List<Tensor> Apply(Func<List<Tensor>> apply)
        {
            var outer = (t_scope, t_forward);
            using var scope = torch.NewDisposeScope();
            t_scope = scope;
            t_forward = null;
            try
            {
                var outputs = apply();
                var keep = new HashSet<IDisposable>(outputs, ReferenceEqualityComparer.Instance);
                var forward = t_forward ?? new HashSet<IDisposable>(ReferenceEqualityComparer.Instance);
                var templates = scope.DisposablesView.Where(d => !keep.Contains(d) && !forward.Contains(d)).ToList();
                scope.Detach(templates);
                scope.MoveToOuter(outputs);
                return outputs;
            }
            finally
            {
                (t_scope, t_forward) = outer;
            }
        }

        /// <summary>Called by a node's forward as its last step: everything in the scope so far is the forward's.</summary>
        internal static void ForwardDone()
        {
            if (t_scope is not null) t_forward = new HashSet<IDisposable>(t_scope.DisposablesView, ReferenceEqualityComparer.Instance);
        }
    }
}
