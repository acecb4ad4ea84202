package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is the answer to an endpoint Hallmark will not send to.
var ErrRefused = errors.New("webhook endpoint refused")

// Policy is what endpoints are acceptable. The zero Policy is production's.
type Policy struct {
	// Insecure admits http:// URLs and loopback addresses (literal or
	// resolved), so tests can receive on 127.0.0.1. Never in production:
	// it lets anyone with an account make Hallmark call its own host.
	Insecure bool
}

// CheckURL parses an endpoint URL and refuses what Hallmark will not call:
// anything but https (http too under Insecure), credentials in the URL (the
// signature is the authentication, and URLs are shown and logged), a
// fragment, no host, and IP literals (a name is needed for TLS and makes
// the address check at delivery meaningful); under Insecure a loopback
// literal is admitted.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, fmt.Errorf("%w: the URL is longer than %d bytes", ErrRefused, MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the URL does not parse", ErrRefused)
	}
	switch {
	case u.Scheme != "https" && !(p.Insecure && u.Scheme == "http"):
		return nil, fmt.Errorf("%w: the URL must start with https://", ErrRefused)
	case u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("%w: the URL has no host", ErrRefused)
	case u.User != nil:
		return nil, fmt.Errorf("%w: the URL must not carry credentials; verify deliveries by their signature", ErrRefused)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("%w: the URL must not have a fragment", ErrRefused)
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, "%") {
		return nil, fmt.Errorf("%w: the URL has no usable host", ErrRefused)
	}
	if port := u.Port(); port == "0" {
		return nil, fmt.Errorf("%w: port 0", ErrRefused)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !p.Insecure || !ip.Unmap().IsLoopback() {
			return nil, fmt.Errorf("%w: use a host name, not an IP address", ErrRefused)
		}
	} else if looksNumeric(host) {
		return nil, fmt.Errorf("%w: use a host name, not an IP address", ErrRefused)
	}
	return u, nil
}

// looksNumeric reports a host whose last label is a number (decimal, or
// hex with 0x): no top-level domain is, so it is an address in disguise,
// like "2130706433" or "0x7f.1", which some resolvers turn into one.
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := strings.ToLower(host[strings.LastIndexByte(host, '.')+1:])
	digits := "0123456789"
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		last, digits = h, "0123456789abcdef"
	}
	return strings.Trim(last, digits) == ""
}

// blocked are ranges beyond the standard library's predicates that reach
// no public receiver, or reach private ones through a translation.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: could reach private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4
	netip.MustParsePrefix("100::/64"),        // discard
}

// CheckAddr refuses an address Hallmark must not connect to: loopback,
// private, link-local, multicast, unspecified and the special ranges
// above (the server-side request forgery a webhook URL invites). Under
// Insecure loopback is admitted.
func (p Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: not an address", ErrRefused)
	case ip.IsLoopback():
		if p.Insecure {
			return nil
		}
		return fmt.Errorf("%w: %s is a loopback address", ErrRefused, ip)
	case ip.IsPrivate():
		return fmt.Errorf("%w: %s is a private address", ErrRefused, ip)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address", ErrRefused, ip)
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is a multicast address", ErrRefused, ip)
	case ip.IsUnspecified():
		return fmt.Errorf("%w: %s is the unspecified address", ErrRefused, ip)
	}
	for _, b := range blocked {
		if b.Contains(ip) {
			return fmt.Errorf("%w: %s is in the special range %s", ErrRefused, ip, b)
		}
	}
	return nil
}

// Resolver is what CheckHost looks names up with (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckHost resolves the URL's host and refuses it unless every address
// passes CheckAddr: a name with one private address among public ones
// would reach it on some connections. It is the check at registration;
// at delivery the dialler checks the address it actually connects to.
func (p Policy) CheckHost(ctx context.Context, r Resolver, u *url.URL) error {
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ip)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("%w: the host %s does not resolve", ErrRefused, host)
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return fmt.Errorf("%w (%s resolves to it)", err, host)
		}
	}
	return nil
}

// Client is the HTTP client deliveries are sent with. Its dialler checks
// every address right before connecting to it, after resolution, so a
// name that resolved to a public address at registration and to a
// private one now (DNS rebinding) is refused, and what is checked is what
// is dialled. It uses no proxy (the proxy's address would be checked
// instead of the receiver's), follows no redirects (a receiver could
// point Hallmark anywhere), and gives up after AttemptTimeout.
func (p Policy) Client() *http.Client {
	d := &net.Dialer{
		Timeout: AttemptTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot check the address %q", ErrRefused, address)
			}
			return p.CheckAddr(ap.Addr())
		},
	}
	return &http.Client{
		Timeout: AttemptTimeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            d.DialContext,
			TLSHandshakeTimeout:    AttemptTimeout,
			ResponseHeaderTimeout:  AttemptTimeout,
			MaxIdleConnsPerHost:    2,
			IdleConnTimeout:        time.Minute,
			MaxResponseHeaderBytes: 16 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
