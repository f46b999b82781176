package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ghzRun is one ghz invocation: Total requests of Call from Concurrency workers over Connections
// HTTP/2 connections, optionally paced at RPS.
type ghzRun struct {
	Call        string
	Data        any // JSON-encodable: one message, or an array sent round-robin
	Metadata    map[string]string
	Concurrency int
	Connections int
	Total       int
	RPS         int
	// Bound kills ghz if it runs longer (the count bound is ghz's own -n).
	Bound time.Duration
}

// ghzReport is the part of ghz's JSON report the benchmark reads (durations are nanoseconds).
type ghzReport struct {
	Count               int64            `json:"count"`
	Total               time.Duration    `json:"total"`
	Rps                 float64          `json:"rps"`
	Slowest             time.Duration    `json:"slowest"`
	ErrorDistribution   map[string]int   `json:"errorDistribution"`
	StatusCodeDist      map[string]int   `json:"statusCodeDistribution"`
	LatencyDistribution []ghzLatencyDist `json:"latencyDistribution"`
}

type ghzLatencyDist struct {
	Percentage int           `json:"percentage"`
	Latency    time.Duration `json:"latency"`
}

// runGHZ runs ghz against addr and summarises its report.
func runGHZ(ctx context.Context, ghz, workDir, name, addr string, r ghzRun) (Latencies, float64, error) {
	dataPath := filepath.Join(workDir, name+".data.json")
	data, err := json.Marshal(r.Data)
	if err != nil {
		return Latencies{}, 0, err
	}
	if err := os.WriteFile(dataPath, data, 0o600); err != nil {
		return Latencies{}, 0, err
	}
	outPath := filepath.Join(workDir, name+".ghz.json")
	conns := max(r.Connections, 1)
	args := []string{
		"--insecure", "--call", r.Call, "--data-file", dataPath,
		"-c", strconv.Itoa(r.Concurrency), "--connections", strconv.Itoa(conns),
		"-n", strconv.Itoa(r.Total), "--timeout", "10s",
		"-O", "json", "-o", outPath,
	}
	if r.RPS > 0 {
		args = append(args, "--rps", strconv.Itoa(r.RPS))
	}
	if len(r.Metadata) > 0 {
		md, err := json.Marshal(r.Metadata)
		if err != nil {
			return Latencies{}, 0, err
		}
		args = append(args, "--metadata", string(md))
	}
	args = append(args, addr)
	ctx, cancel := context.WithTimeout(ctx, r.Bound)
	defer cancel()
	out, err := exec.CommandContext(ctx, ghz, args...).CombinedOutput() //nolint:gosec // the harness's pinned ghz
	if ctx.Err() != nil {
		return Latencies{}, 0, fmt.Errorf("ghz %s: exceeded its %s bound", name, r.Bound)
	}
	if err != nil {
		return Latencies{}, 0, fmt.Errorf("ghz %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	b, err := os.ReadFile(outPath) //nolint:gosec // written by ghz just now under the work directory
	if err != nil {
		return Latencies{}, 0, err
	}
	return parseGHZ(b)
}

// parseGHZ turns ghz's JSON report into Latencies and the throughput.
func parseGHZ(b []byte) (Latencies, float64, error) {
	var rep ghzReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return Latencies{}, 0, fmt.Errorf("ghz report: %w", err)
	}
	l := Latencies{Count: int(rep.Count), Max: rep.Slowest}
	for msg, n := range rep.ErrorDistribution {
		l.Errors += n
		if l.FirstError == "" {
			l.FirstError = msg
		}
	}
	for _, d := range rep.LatencyDistribution {
		switch d.Percentage {
		case 50:
			l.P50 = d.Latency
		case 95:
			l.P95 = d.Latency
		case 99:
			l.P99 = d.Latency
		}
	}
	if rep.Count > 0 && l.P50 == 0 {
		return l, 0, errors.New("ghz report has no latency distribution")
	}
	return l, rep.Rps, nil
}

// heyRun is one hey invocation (REST): Total POSTs of Body to URL from Concurrency workers.
type heyRun struct {
	URL         string
	Body        []byte
	Concurrency int
	Total       int
	Bound       time.Duration
}

func runHey(ctx context.Context, hey, workDir, name string, r heyRun) (Latencies, float64, error) {
	bodyPath := filepath.Join(workDir, name+".body.json")
	if err := os.WriteFile(bodyPath, r.Body, 0o600); err != nil {
		return Latencies{}, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.Bound)
	defer cancel()
	out, err := exec.CommandContext(ctx, hey, //nolint:gosec // the harness's hey
		"-n", strconv.Itoa(r.Total), "-c", strconv.Itoa(r.Concurrency), "-t", "10",
		"-m", "POST", "-T", "application/json", "-D", bodyPath, r.URL).CombinedOutput()
	if ctx.Err() != nil {
		return Latencies{}, 0, fmt.Errorf("hey %s: exceeded its %s bound", name, r.Bound)
	}
	if err != nil {
		return Latencies{}, 0, fmt.Errorf("hey %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	if err := os.WriteFile(filepath.Join(workDir, name+".hey.txt"), out, 0o600); err != nil {
		return Latencies{}, 0, err
	}
	return parseHey(string(out))
}

// parseHey reads hey's text summary: Requests/sec, the latency distribution, status codes and errors.
// Non-2xx responses count as errors.
func parseHey(s string) (Latencies, float64, error) {
	var l Latencies
	var rps float64
	sawRPS := false
	section := ""
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasSuffix(line, ":") && !strings.Contains(line, "\t"):
			section = strings.TrimSuffix(line, ":")
			continue
		}
		switch section {
		case "Summary":
			if v, ok := strings.CutPrefix(line, "Requests/sec:"); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return l, 0, fmt.Errorf("hey Requests/sec: %w", err)
				}
				rps, sawRPS = f, true
			}
			if v, ok := strings.CutPrefix(line, "Slowest:"); ok {
				l.Max = heySeconds(v)
			}
		case "Latency distribution":
			// "50%% in 0.0012 secs"
			pct, rest, ok := strings.Cut(line, "%% in ")
			if !ok {
				pct, rest, ok = strings.Cut(line, "% in ")
			}
			if !ok {
				continue
			}
			d := heySeconds(strings.TrimSuffix(rest, " secs"))
			switch strings.TrimSpace(pct) {
			case "50":
				l.P50 = d
			case "95":
				l.P95 = d
			case "99":
				l.P99 = d
			}
		case "Status code distribution":
			// "[200]	1000 responses"
			code, rest, ok := strings.Cut(strings.TrimPrefix(line, "["), "]")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(strings.Fields(rest)[0])
			if err != nil {
				return l, 0, fmt.Errorf("hey status line %q: %w", line, err)
			}
			l.Count += n
			if !strings.HasPrefix(code, "2") {
				l.Errors += n
				if l.FirstError == "" {
					l.FirstError = "HTTP " + code
				}
			}
		case "Error distribution":
			// "[5]	Post ...: connection refused"
			cnt, msg, ok := strings.Cut(strings.TrimPrefix(line, "["), "]")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(cnt)
			if err != nil {
				continue
			}
			l.Count += n
			l.Errors += n
			if l.FirstError == "" {
				l.FirstError = strings.TrimSpace(msg)
			}
		}
	}
	if !sawRPS {
		return l, 0, errors.New("hey output has no Requests/sec")
	}
	return l, rps, nil
}

func heySeconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "secs")), 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
