using System;
using FluentAssertions;
using TorchSharp;
using Xunit;

namespace DuRnn.Tests
{
    /// <summary>
    /// An IndRNN's state is one tensor, so <c>call(x, t)</c> compiles with a tensor of lengths where the state goes: it
    /// gets a hint to <c>call(input, lengths, state)</c>. (What both stacks check is in <see cref="InputValidationTests"/>.)
    /// </summary>
    [Collection("Sequential")]
    public sealed class IndRnnInputValidationTests
    {
        private const long T = 4, B = 2, I = 3, H = 5, L = 2;

        [Fact]
        public void LengthsPassedWhereTheStateGoesGetAHint()
        {
            using var model = new IndRNN(I, H, L);
            FluentActions.Invoking(() => model.call(torch.randn(T, B, I), torch.tensor(new long[] { 4, 2 })))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*(2, 2, 5)*1-D int64*call(input, lengths, state)*");
        }
    }
}
