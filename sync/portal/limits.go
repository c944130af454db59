package portal

import "time"

// The portal's bounds on what one client may make it hold. An attachment is
// bounded by MaxUploadSize.
const (
	// MaxHeaderBytes bounds a request's headers, Upload-Metadata and its
	// manifest included: a larger one gets 431.
	MaxHeaderBytes = 256 << 10
	// MaxRequestBody bounds the body of a request outside the uploads
	// (enrollment, a submission's manifest): a larger one gets 413.
	// Attachments travel as uploads, each bounded by MaxUploadSize.
	MaxRequestBody = 256 << 10
	// MaxDrainedBody bounds what the portal reads and discards of a body
	// it refused with 413, so that a client still sending it reads the
	// refusal instead of a reset. A body declared larger is not read: its
	// client may see the connection reset.
	MaxDrainedBody = 4 * MaxRequestBody

	// DefaultReadHeaderTimeout bounds the time to read a request's headers.
	DefaultReadHeaderTimeout = 30 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxConns caps the connections open at once.
	DefaultMaxConns = 512
	// DefaultMaxConnsPerAddr caps the connections open at once from one
	// remote IP address.
	DefaultMaxConnsPerAddr = 32

	// DefaultNetworkTimeout is how long a request body may send nothing
	// before the portal cuts it.
	DefaultNetworkTimeout = 60 * time.Second
)

// codeTooLarge is the protocol's error code for a request larger than the
// portal accepts (413).
const codeTooLarge = "too_large"
