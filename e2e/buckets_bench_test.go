package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/berth-dev/berth/client"
)

// BenchmarkBucketPresignedGet: a presigned GET of a 1 MiB object through
// the public endpoint (the edge at s3.{org}) beside the same URL sent
// straight to the embedded server, in the same run: 8 concurrent clients
// for 2 s each way, alternating, 5 rounds; it reports the medians.
//
//	go test ./e2e -run '^$' -bench BucketPresignedGet -benchtime 1x
func BenchmarkBucketPresignedGet(b *testing.B) {
	p, pr := benchPlatform(b)
	ctx := context.Background()
	bk, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: pr.ID, Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	obj := make([]byte, 1<<20)
	rand.Read(obj)
	c := sdk(bk.Endpoint, bk.Credentials.AccessKeyID, bk.Credentials.SecretAccessKey, p.web)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bk.S3Name, Key: aws.String("1mib"), Body: strings.NewReader(string(obj))}); err != nil {
		b.Fatal(err)
	}
	ps, err := p.api.PresignBucket(ctx, bk.ID, client.PresignBucket{Key: "1mib", Method: "GET", ExpiresIn: 3600})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(p.dataDir, "s3", "ports.json"))
	if err != nil {
		b.Fatal(err)
	}
	var ports struct {
		Loopback int `json:"loopback"`
	}
	json.Unmarshal(raw, &ports)
	direct := fmt.Sprintf("127.0.0.1:%d", ports.Loopback)

	const workers, round, rounds = 8, 2 * time.Second, 5
	through := func(addr string) float64 {
		d := &net.Dialer{Timeout: 2 * time.Second}
		hc := &http.Client{Transport: &http.Transport{
			DialContext:         func(ctx context.Context, n, _ string) (net.Conn, error) { return d.DialContext(ctx, n, addr) },
			MaxIdleConnsPerHost: workers, DisableCompression: true,
		}}
		defer hc.CloseIdleConnections()
		var bytes, fails atomic.Int64
		stop := time.Now().Add(round)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					resp, err := hc.Get(ps.URL)
					if err != nil {
						fails.Add(1)
						continue
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n != 1<<20 {
						fails.Add(1)
						continue
					}
					bytes.Add(n)
				}
			}()
		}
		wg.Wait()
		if fails.Load() > 0 {
			b.Fatalf("%d failed GETs via %s", fails.Load(), addr)
		}
		return float64(bytes.Load()) / (1 << 20) / round.Seconds()
	}
	var edge, straight, ratio []float64
	for b.Loop() {
		for i := range rounds {
			var e, s float64
			if i%2 == 0 {
				e, s = through(p.edgeAddr), through(direct)
			} else {
				s, e = through(direct), through(p.edgeAddr)
			}
			edge, straight, ratio = append(edge, e), append(straight, s), append(ratio, e/s)
		}
	}
	b.ReportMetric(median(edge), "edge-MiB/s")
	b.ReportMetric(median(straight), "direct-MiB/s")
	b.ReportMetric(median(ratio), "edge/direct")
}
