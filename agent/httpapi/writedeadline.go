package httpapi

import (
	"net/http"
	"time"
)

// boundWrites gives every response limits.write_timeout to be written,
// counted from when its status line is written (and again for each
// informational status), not from when the request arrived: a long ?wait=
// happens before the first byte and does not shorten it, and a client
// that stops reading holds its connection and buffers for that long at
// most.
func (s *server) boundWrites(next http.Handler) http.Handler {
	d := s.Config.Limits.WriteTimeout.D()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// Until the status is written the handler may wait (up to maxWait);
		// HTTP/2 would otherwise reset the stream at the server's
		// WriteTimeout while it does.
		_ = rc.SetWriteDeadline(time.Now().Add(maxWait + d))
		next.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, d: d}, r)
	})
}

// deadlineWriter sets the connection's write deadline when a status is
// written, or when the body starts without one.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	d       time.Duration
	started bool
}

func (w *deadlineWriter) WriteHeader(code int) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	if code >= 200 {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers working behind the wrapper.
func (w *deadlineWriter) Flush() { _ = w.rc.Flush() }

// Unwrap lets http.ResponseController reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
