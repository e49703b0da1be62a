package sign

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// The vectors were computed with the README's openssl command, e.g.
// printf '%s.%s.%s.%s' 1764460800 POST /v1/alarms '{"condition":"RM1_Stopped"}' | openssl dgst -sha256 -hmac 's3cret key' -r
func TestSignMatchesOpenSSL(t *testing.T) {
	for _, tt := range []struct {
		name, ts, method, target, body, want string
	}{
		{"alarm", "1764460800", "POST", "/v1/alarms", `{"condition":"RM1_Stopped"}`,
			"sha256=789e5a26e8e2c4fabd55bd9f781c3e4385a339ab0c1d38125ed4b7f18972a5ea"},
		{"report with query", "1700000000", "POST", "/hook?team=voice", `{"report_id":"rm1-x:sink"}`,
			"sha256=0f4ef97cf528aac89f6bdd21df8f6973a3198a1643448575eee6b889ae792d04"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sign([]byte("s3cret key"), tt.ts, tt.method, tt.target, []byte(tt.body)); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	for raw, want := range map[string]string{
		"https://r.example/hook?team=voice&x=1": "/hook?team=voice&x=1",
		"http://r.example":                      "/",
		"http://r.example/a%2Fb":                "/a%2Fb",
		"http://u:p@r.example/p?":               "/p?", // as the client sends it
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := Target(u); got != want {
			t.Errorf("Target(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret key")
	now := time.Unix(1764460800, 0)
	ts := "1764460800"
	body := []byte(`{"condition":"RM1_Stopped"}`)
	good := Sign(secret, ts, "POST", "/v1/alarms", body)
	for _, tt := range []struct {
		name, ts, sig, method, target, body string
		want                                error
	}{
		{"valid", ts, good, "POST", "/v1/alarms", string(body), nil},
		{"another path", ts, good, "POST", "/v1/events/x/replay", string(body), ErrMismatch},
		{"another method", ts, good, "PUT", "/v1/alarms", string(body), ErrMismatch},
		{"a query added", ts, good, "POST", "/v1/alarms?wait=0", string(body), ErrMismatch},
		{"another body", ts, good, "POST", "/v1/alarms", `{"condition":"x"}`, ErrMismatch},
		{"another secret", ts, Sign([]byte("other"), ts, "POST", "/v1/alarms", body), "POST", "/v1/alarms", string(body), ErrMismatch},
		{"stale", "1764460000", Sign(secret, "1764460000", "POST", "/v1/alarms", body), "POST", "/v1/alarms", string(body), ErrStale},
		{"future", "1764461800", Sign(secret, "1764461800", "POST", "/v1/alarms", body), "POST", "/v1/alarms", string(body), ErrStale},
		{"timestamp not a number", "soon", good, "POST", "/v1/alarms", string(body), ErrMalformed},
		{"timestamp with a plus", "+1764460800", good, "POST", "/v1/alarms", string(body), ErrMalformed},
		{"no prefix", ts, good[len("sha256="):], "POST", "/v1/alarms", string(body), ErrMalformed},
		{"uppercase hex", ts, "sha256=" + "789E5A26E8E2C4FABD55BD9F781C3E4385A339AB0C1D38125ED4B7F18972A5EA", "POST", "/v1/alarms", string(body), ErrMalformed},
		{"short", ts, "sha256=abcd", "POST", "/v1/alarms", string(body), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(secret, tt.ts, tt.sig, tt.method, tt.target, []byte(tt.body), now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzVerify feeds arbitrary headers, requests and bodies to the verifier:
// no panic, every refusal is one of its errors, and a signature verifies
// for exactly the request it was made for.
func FuzzVerify(f *testing.F) {
	f.Add("1764460800", "sha256=00", "POST", "/v1/alarms", []byte(`{}`), []byte("k"))
	f.Add("", "", "", "", []byte(nil), []byte(nil))
	f.Add("-1", "sha256=", "GET", "/v1/events?x=1", []byte("\xff"), []byte("secret"))
	now := time.Unix(1764460800, 0)
	f.Fuzz(func(t *testing.T, ts, sig, method, target string, body, secret []byte) {
		_, err := Verify(secret, ts, sig, method, target, body, now, 5*time.Minute)
		// What the headers alone refuse, Verify refuses the same way; what
		// they let through fails, if at all, only on the body's HMAC.
		herr := CheckHeaders(ts, sig, now, 5*time.Minute)
		if herr != nil && (err == nil || herr.Error() != err.Error()) {
			t.Fatalf("CheckHeaders = %v but Verify = %v", herr, err)
		}
		if herr == nil && err != nil && !errors.Is(err, ErrMismatch) {
			t.Fatalf("CheckHeaders passed but Verify = %v", err)
		}
		if err == nil && sig != Sign(secret, ts, method, target, body) {
			t.Fatalf("accepted a signature that is not the request's: %q", sig)
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrStale) && !errors.Is(err, ErrMismatch) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		const fixedTS = "1764460800"
		good := Sign(secret, fixedTS, method, target, body)
		if _, err := Verify(secret, fixedTS, good, method, target, body, now, time.Minute); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if _, err := Verify(secret, fixedTS, good, method, target+"x", body, now, time.Minute); !errors.Is(err, ErrMismatch) {
			t.Fatalf("signature accepted for another target: %v", err)
		}
	})
}
