package upstream

// Names the base tests need; compiled only into tests.

// WithBaseClock replaces the clock of the base-token cache.
var WithBaseClock = withBaseClock

// DecodeMetadata and DecodeRows are the base server's decoders.
var (
	DecodeMetadata = decodeMetadata
	DecodeRows     = decodeRows
	DecodeOneRow   = decodeOneRow
)

// RateLimitReset reads X-RateLimit-Reset.
var RateLimitReset = rateLimitReset
