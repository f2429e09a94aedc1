using System;

namespace DuRnn.Distributed
{
    /// <summary>
    /// An MPI function returned an error code (the session sets <c>MPI_ERRORS_RETURN</c> on <c>MPI_COMM_WORLD</c>, so
    /// errors come back as codes instead of aborting the job). The message names the function, the code and MPI's own
    /// description of it.
    /// </summary>
    public sealed class MpiException : Exception
    {
        /// <summary>Creates the exception for <paramref name="function"/>'s error <paramref name="errorCode"/>.</summary>
        /// <param name="function">The MPI function that failed, e.g. <c>MPI_Allreduce</c>.</param>
        /// <param name="errorCode">The code it returned (not <c>MPI_SUCCESS</c>).</param>
        /// <param name="description">MPI's text for the code (<c>MPI_Error_string</c>).</param>
        public MpiException(string function, int errorCode, string description)
            : base($"{function} failed with MPI error {errorCode}: {description}")
        {
            Function = function;
            ErrorCode = errorCode;
        }

        /// <summary>The MPI function that failed, e.g. <c>MPI_Allreduce</c>.</summary>
        public string Function { get; }

        /// <summary>The error code it returned.</summary>
        public int ErrorCode { get; }
    }
}
