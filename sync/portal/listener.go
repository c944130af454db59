package portal

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// connLimiter is a net.Listener that caps the connections open at once,
// in all and per remote IP address. A connection over either cap is closed
// as soon as it is accepted, counted and logged, and Accept goes on to the
// next, so a flood from one address neither exhausts the portal's file
// descriptors nor locks out kiosks at other addresses.
type connLimiter struct {
	net.Listener
	total, perAddr int // perAddr <= 0: no cap per address
	log            *slog.Logger
	refused        *atomic.Int64

	mu     sync.Mutex
	open   int
	byAddr map[string]int
}

func newConnLimiter(ln net.Listener, total, perAddr int, refused *atomic.Int64, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, total: total, perAddr: perAddr, log: log, refused: refused, byAddr: map[string]int{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteIP(c)
		if l.admit(addr) {
			return &limitedConn{Conn: c, release: func() { l.release(addr) }}, nil
		}
		n := l.refused.Add(1)
		c.Close()
		// Log the first refusal and then one in a thousand, so that a
		// flood does not flood the log too.
		if n == 1 || n%1000 == 0 {
			l.log.Warn("connection over the cap closed", "remote", addr, "refused_total", n,
				"max_conns", l.total, "max_conns_per_addr", l.perAddr)
		}
	}
}

// admit reserves a place for a connection from addr if both caps allow.
func (l *connLimiter) admit(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.total || (l.perAddr > 0 && l.byAddr[addr] >= l.perAddr) {
		return false
	}
	l.open++
	l.byAddr[addr]++
	return true
}

func (l *connLimiter) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// remoteIP is a connection's remote IP address without its port.
func remoteIP(c net.Conn) string {
	addr := c.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// limitedConn gives its place back when it is closed, once.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
