package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkPostAlarmRoundTrip is a full POST /v1/alarms over real HTTP on
// loopback: decode, validate, journal, plan, run on the fake backend,
// journal the result, answer 200 with it.
func BenchmarkPostAlarmRoundTrip(b *testing.B) {
	a := newAPI(b, "", nil)
	conds := []string{"RM1_Stopped", "RM1_Started"}
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := fmt.Sprintf(`{"condition":%q,"id":"bench-%d"}`, conds[i%2], i)
		resp, err := client.Post(a.srv.URL+"/v1/alarms", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
