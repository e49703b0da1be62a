package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
)

// rawRequest writes a request's head (and body, if any) on a new
// connection to a and returns the connection; a hang-guard bounds reads.
func rawRequest(t *testing.T, a *api, head, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", a.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(head + "\r\n" + body)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

func readStatus(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

func signedHead(ts string, contentLength int) string {
	return fmt.Sprintf("POST /v1/alarms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s: %s\r\n%s: sha256=%s\r\n",
		contentLength, httpapi.HeaderTimestamp, ts, httpapi.HeaderSignature, strings.Repeat("0", 64))
}

// TestJunkTokensNeverBlockTheTrusted: 2,000 requests with wrong tokens
// from one address spend that address's failure budget, not the limit of
// the credentials that do authenticate from it.
func TestJunkTokensNeverBlockTheTrusted(t *testing.T) {
	a := newAPI(t, "  rate_per_minute: 600\n\n"+authYAML, adminEnv)
	codes := map[int]int{}
	a.tok = "wrong-token-0123456789"
	for range 2000 {
		code, _, _ := a.do("GET", "/v1/events", "", nil)
		codes[code]++
	}
	if codes[401] != 600 || codes[429] != 1400 {
		t.Errorf("wrong tokens answered %v, want 600x401 then 1400x429", codes)
	}
	a.tok = tokens[config.RoleTrigger]
	if code, _, body := a.do("POST", "/v1/alarms?wait=5s", "application/json", []byte(`{"condition":"RM1_Stopped"}`)); code != 200 {
		t.Errorf("fire after the flood: %d %s", code, body)
	}
	if code, _, body := a.do("POST", "/v1/failover?wait=5s", "application/json", []byte(`{"action":"disable","member_id":1}`)); code == 429 || code >= 500 {
		t.Errorf("failover after the flood: %d %s", code, body)
	}
}

// TestRateLimitPerCredential: one credential's rate is its own.
func TestRateLimitPerCredential(t *testing.T) {
	a := newAPI(t, "  rate_per_minute: 5\n\n"+authYAML, adminEnv)
	a.tok = tokens[config.RoleRead]
	codes := map[int]int{}
	for range 8 {
		code, _, body := a.do("GET", "/v1/events", "", nil)
		codes[code]++
		if code == 429 && !strings.Contains(string(body), "more than 5 requests a minute with this credential (token:grafana)") {
			t.Errorf("429 says %s", body)
		}
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Errorf("read token answered %v, want 5x200 and 3x429", codes)
	}
	a.tok = tokens[config.RoleAdmin]
	if code, _, body := a.do("GET", "/v1/events", "", nil); code != 200 {
		t.Errorf("another credential after the first hit its limit: %d %s", code, body)
	}
}

// TestSignedHeadersCheckedBeforeTheBody: a stale or malformed signature is
// refused without waiting for a body that never comes.
func TestSignedHeadersCheckedBeforeTheBody(t *testing.T) {
	a := newAPI(t, authYAML, adminEnv)
	stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	for _, head := range []string{
		signedHead(stale, 1000),
		strings.Replace(signedHead(strconv.FormatInt(time.Now().Unix(), 10), 1000), "sha256=", "md5=", 1),
	} {
		c := rawRequest(t, a, head, "")
		if code, body := readStatus(t, c); code != 401 {
			t.Errorf("answered %d %s, want 401 before the body", code, body)
		}
	}
}

// TestSlowSignedBodiesCannotStarveTheTrusted: unverified signed bodies
// sent a byte at a time hold only the strangers' budget, per address, for
// at most the short body deadline; a bearer-token alarm is served all
// along.
func TestSlowSignedBodiesCannotStarveTheTrusted(t *testing.T) {
	a := newAPI(t, "  max_in_flight: 64\n\n"+authYAML, adminEnv)
	// max_in_flight 64: the strangers' budget is 8, 2 of them per address.
	now := strconv.FormatInt(time.Now().Unix(), 10)
	var slow []net.Conn
	for range 10 {
		slow = append(slow, rawRequest(t, a, signedHead(now, 100), "{"))
	}
	// Whatever order they arrive in, two hold a slot and eight are
	// refused at once; once the eight refusals are in, two are holding.
	type answer struct {
		code int
		body string
	}
	answers := make(chan answer, len(slow))
	for _, c := range slow {
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				answers <- answer{0, err.Error()}
				return
			}
			var b strings.Builder
			_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
			resp.Body.Close()
			answers <- answer{resp.StatusCode, b.String()}
		}()
	}
	for range 8 {
		if got := <-answers; got.code != 503 || !strings.Contains(got.body, "from this address") {
			t.Errorf("slow signed request answered %d %s, want 503 (per-address cap) for all but two", got.code, got.body)
		}
	}
	a.tok = tokens[config.RoleTrigger]
	if code, _, body := a.do("POST", "/v1/alarms?wait=5s", "application/json", []byte(`{"condition":"RM1_Stopped"}`)); code != 200 {
		t.Errorf("alarm while slow bodies wait: %d %s", code, body)
	}
	for range 2 {
		if got := <-answers; got.code != 400 || !strings.Contains(got.body, "must arrive within 2s") {
			t.Errorf("slow signed body answered %d %s, want 400 after the body deadline", got.code, got.body)
		}
	}
}

// TestTrustedCappedPerAddress: one address holding its share of the
// trusted budget (a quarter of max_in_flight, at least 4) with bodies that
// never finish is refused more, at once and from that address only;
// another address's alarm is served meanwhile.
func TestTrustedCappedPerAddress(t *testing.T) {
	a := newAPI(t, "  max_in_flight: 16\n\n"+authYAML, adminEnv)
	head := fmt.Sprintf("POST /v1/alarms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nAuthorization: Bearer %s\r\n", tokens[config.RoleTrigger])
	// Six slow bodies: four hold the address's share, two are refused,
	// and their refusals come while their bodies are unfinished (net/http
	// reads what is left of a body before answering unless the
	// connection is to close).
	answers := make(chan string, 6)
	for range 6 {
		c := rawRequest(t, a, head, "{")
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return // closed at the test's end, unanswered
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers <- fmt.Sprint(resp.StatusCode, " ", string(b))
		}()
	}
	for range 2 {
		var got string
		select {
		case got = <-answers:
		case <-time.After(5 * time.Second):
			t.Fatal("no refusal within 5s: the refusals wait for their bodies")
		}
		if !strings.HasPrefix(got, "503 ") || !strings.Contains(got, "too many requests in flight from this address (at most 4)") {
			t.Errorf("slow request beyond the address's share answered %s; want 503 for its address", got)
		}
	}
	whole := `{"condition":"RM1_Stopped"}`
	if code, _, body := a.do("POST", "/v1/alarms?wait=0s", "application/json", []byte(whole), "Authorization", "Bearer "+tokens[config.RoleAdmin]); code != 503 {
		t.Errorf("another credential from the same address answered %d %s; want 503: the cap is the address's", code, body)
	}
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	req, _ := http.NewRequest("POST", a.srv.URL+"/v1/alarms?wait=5s", strings.NewReader(whole))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokens[config.RoleTrigger])
	resp, err := other.Do(req)
	if err != nil {
		t.Fatalf("alarm from another address: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("alarm from another address while one holds its share: %d", resp.StatusCode)
	}
	select {
	case got := <-answers:
		t.Errorf("a slow request holding a slot was answered: %s", got)
	default:
	}
}
