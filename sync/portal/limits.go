package portal

import "time"

// The portal's bounds on what one client may make it hold. An attachment is
// bounded by MaxUploadSize.
const (
	// DefaultNetworkTimeout is how long a request body may send nothing
	// before the portal cuts it.
	DefaultNetworkTimeout = 60 * time.Second
)

// codeTooLarge is the protocol's error code for a request larger than the
// portal accepts (413).
const codeTooLarge = "too_large"
