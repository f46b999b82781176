package redisclient_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config/setting"
	"github.com/authsvc/authsvc/internal/redisclient"
)

func load(url string) (redisclient.Conf, error) {
	var c redisclient.Conf
	err := setting.FromEnv(&c, func(k string) string {
		if k == redisclient.EnvURL {
			return url
		}
		return ""
	})
	return c, err
}

// Each URL form names its topology: one server, a Redis Cluster, a primary behind Sentinel.
func TestURLForms(t *testing.T) {
	for url, want := range map[string]redisclient.Topology{
		"redis://cache:6379/0": redisclient.Server,
		"rediss://user:pw@cache.example.com:6380/2?client_name=authsvc": redisclient.Server,
		"REDIS://cache": redisclient.Server,
		"redis+cluster://node1:7000?addr=node2:7000&addr=node3:7000":        redisclient.Cluster,
		"rediss+cluster://user:pw@node1:7000":                               redisclient.Cluster,
		"redis+sentinel://s1:26379/0?master_name=mymaster&addr=s2:26379":    redisclient.Sentinel,
		"rediss+sentinel://u:pw@s1:26379?master_name=mymaster&password=rpw": redisclient.Sentinel,
	} {
		c, err := load(url)
		require.NoError(t, err, url)
		assert.True(t, c.Enabled(), url)
		assert.Equal(t, want, c.Topology(), url)
	}
	c, err := load("")
	require.NoError(t, err)
	assert.False(t, c.Enabled(), "unset: no Redis")
	assert.Empty(t, c.Topology())
}

// A bad URL stops startup naming the variable, and never quotes the URL: it may hold a password.
func TestBadURLs(t *testing.T) {
	for url, want := range map[string]string{
		"http://cache:6379":                       "not a redis:// or rediss:// URL with a host",
		"cache:6379":                              "not a redis:// or rediss:// URL with a host",
		"redis:///0":                              "not a redis:// or rediss:// URL with a host",
		"unix:///run/redis.sock":                  "not a redis:// or rediss:// URL with a host",
		"redis+ring://a:1":                        "redis+cluster:// and redis+sentinel://",
		"redis://u:sekrit/x@cache:6379":           "not a redis:// or rediss:// URL with a host",
		"redis://u:sekrit@cache:6379/x/y":         "invalid URL path",
		"redis://u:sekrit@cache:6379/0?bogus=1":   "unexpected option: bogus",
		"redis+cluster://u:sekrit@n1:7000?addr=x": "unable to parse addr param",
		"redis+sentinel://u:sekrit@s1:26379":      "needs master_name=",
	} {
		_, err := load(url)
		require.Error(t, err, url)
		assert.Regexp(t, "^AUTHSVC_REDIS_URL: ", err.Error(), url)
		assert.Contains(t, err.Error(), want, url)
		assert.NotContains(t, err.Error(), "sekrit", url)
	}
}

// A configuration printed whole (a debugging Printf) shows no part of the URL.
func TestConfNeverPrintsTheURL(t *testing.T) {
	c, err := load("redis://user:sekrit@cache.internal:6379/0")
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(format, c), "sekrit")
		assert.NotContains(t, fmt.Sprintf(format, &c), "sekrit")
	}
}

// AUTHSVC_REDIS_TIMEOUT is one request-path operation's budget: the client's read, write and pool
// timeouts are two thirds of it and its dial at least 250 ms; the subscription keeps its own.
func TestTimeoutSetting(t *testing.T) {
	var c redisclient.Conf
	c.SetDefaults()
	assert.Equal(t, redisclient.DefaultTimeout, c.Timeout())
	require.NoError(t, c.SetURL("redis://127.0.0.1:1"))
	require.NoError(t, c.SetTimeout("600ms"))
	assert.Equal(t, 600*time.Millisecond, c.Timeout())
	cl, err := redisclient.Open(c, redisclient.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	assert.Equal(t, 600*time.Millisecond, cl.Timeout())
	o := cl.Redis().(*redis.Client).Options() //nolint:forcetypeassert // a redis:// URL is one server
	assert.Equal(t, 400*time.Millisecond, o.ReadTimeout)
	assert.Equal(t, 400*time.Millisecond, o.WriteTimeout)
	assert.Equal(t, 400*time.Millisecond, o.PoolTimeout)
	assert.Equal(t, 600*time.Millisecond, o.DialTimeout)
	assert.NotEqual(t, 400*time.Millisecond, cl.Subscriber().(*redis.Client).Options().ReadTimeout) //nolint:forcetypeassert // as above

	require.NoError(t, c.SetTimeout("20ms"))
	cl, err = redisclient.Open(c, redisclient.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	o = cl.Redis().(*redis.Client).Options() //nolint:forcetypeassert // as above
	assert.Equal(t, 250*time.Millisecond, o.DialTimeout, "a dial gets at least 250 ms")

	for _, bad := range []string{"fast", "150", "5ms", "11s", "-1s"} {
		var d redisclient.Conf
		assert.Error(t, d.SetTimeout(bad), bad)
	}
}
