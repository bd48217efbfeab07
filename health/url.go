package health

import (
	"errors"
	"fmt"
	"net/url"
)

// CheckURL accepts absolute http and https URLs, as a ping or notification
// URL must be. Its errors name only the scheme and host: the rest of a
// ping or topic URL is the secret.
func CheckURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme == "" {
		return errors.New("must start with https:// or http://")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must start with https:// or http://, not %q", u.Scheme+":")
	}
	if u.Host == "" {
		return errors.New("has no host name")
	}
	return nil
}

// Redact names a ping or notification URL by scheme and host only, for
// messages: the rest is its secret.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(URL)"
	}
	return redact(u)
}
