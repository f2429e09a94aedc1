using Xunit;
using static TorchSharp.torch;
namespace DuRnn.Tests
{
    public class SmokeTests
    {
        [Fact]
        public void TorchLoads()
        {
            var t = ones(3);
            Assert.Equal(3.0, t.sum().item<float>());
        }
    }
}
