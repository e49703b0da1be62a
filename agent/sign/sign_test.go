package sign

import "testing"

// The vector was computed with the README's openssl command:
// printf '%s.%s' 1700000000 '{"report_id":"rm1-x:sink"}' | openssl dgst -sha256 -hmac 's3cret key' -r
func TestSignMatchesOpenSSL(t *testing.T) {
	got := Sign([]byte("s3cret key"), "1700000000", []byte(`{"report_id":"rm1-x:sink"}`))
	want := "sha256=ee069372d4235ba888b7e3ded857daa72ea22982d8fb663d9d7b32a913e72662"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
