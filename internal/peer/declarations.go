package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hallmark-iot/hallmark/internal/insight"
)

// Target reads one declared target as the instance publishes it: the
// declaration, which an auditor hashes (insight.Target.Digest) and compares
// with the logged one. Found is false when the instance answers 404.
func (c *Client) Target(ctx context.Context, id string) (t insight.Target, found bool, err error) {
	b, err := c.get(ctx, c.base+"/api/v1/targets/"+url.PathEscape(id), "application/json", MaxJSONBytes)
	if err != nil {
		if se := (*StatusError)(nil); errors.As(err, &se) && se.Code == http.StatusNotFound {
			return insight.Target{}, false, nil
		}
		return insight.Target{}, false, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return insight.Target{}, false, fmt.Errorf("target %s could not be read: %w", id, err)
	}
	return t, true, nil
}

// TargetPage is one page of the instance's declared targets.
type TargetPage struct {
	Items []insight.Target `json:"items"`
	Total int              `json:"total"`
}

// Targets reads one page of the declared targets.
func (c *Client) Targets(ctx context.Context, offset, limit int) (TargetPage, error) {
	var p TargetPage
	b, err := c.get(ctx, fmt.Sprintf("%s/api/v1/targets?limit=%d&offset=%d", c.base, limit, offset), "application/json", MaxJSONBytes)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	return p, err
}

// MaxReportBytes bounds a published transparency report.
const MaxReportBytes = 4 << 20

// PublishedReport reads a transparency report byte for byte as it was
// published: the bytes whose SHA-256 the log holds. Found is false when the
// instance answers 404.
func (c *Client) PublishedReport(ctx context.Context, id string) (body []byte, found bool, err error) {
	b, err := c.get(ctx, c.base+"/api/v1/reports/"+url.PathEscape(id)+"/published", "application/json", MaxReportBytes)
	if err != nil {
		if se := (*StatusError)(nil); errors.As(err, &se) && se.Code == http.StatusNotFound {
			return nil, false, nil
		}
		return nil, false, err
	}
	return b, true, nil
}
