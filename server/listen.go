package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"palate"
)

// Listen opens addr ("host:port") for Serve. A server without keys serves
// every route to anyone who can connect, so it refuses any address that is
// not loopback, with an EFORBIDDEN error saying what to set.
func (s *Server) Listen(ctx context.Context, addr string) (net.Listener, error) {
	if s.readKey == "" && s.writeKey == "" {
		ok, err := loopback(ctx, addr)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, palate.Errorf(palate.EFORBIDDEN,
				"refusing to listen on %s without keys: set PALATE_WRITE_KEY (and PALATE_READ_KEY for read-only clients), or listen on a loopback address such as 127.0.0.1:8080", addr)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, palate.Errorf(palate.EUNAVAILABLE, "listen on %s: %w", addr, err)
	}
	return ln, nil
}

// loopback reports whether every address addr's host names is loopback;
// an empty host means every interface.
func loopback(ctx context.Context, addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, palate.Errorf(palate.EINVALID, "address %q: %v", addr, err)
	}
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	if host == "localhost" {
		return true, nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return false, palate.Errorf(palate.EINVALID, "address %q: %v", addr, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false, nil
		}
	}
	return len(ips) > 0, nil
}

// Serve answers requests on ln until ctx ends, then stops accepting and
// waits up to ten seconds for requests in flight.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.lim.RequestTimeout + 10*time.Second,
		WriteTimeout:      s.lim.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return palate.Errorf(palate.EINTERNAL, "serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hs.Shutdown(shut)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
