package scaleout

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/seatable-graphql/seatable-graphql/app"
)

// The deploy/ examples stay true: every setting they use is a documented
// setting with a valid value, the replicas share Redis, the probes are the
// server's, and the grace periods cover SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT.
func TestDeployExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\|").FindAllSubmatch(doc, -1) {
		documented[string(m[1])] = true
	}
	if len(documented) < 20 {
		t.Fatalf("found only %d settings in docs/configuration.md", len(documented))
	}
	checkEnv := func(t *testing.T, where string, env map[string]string) {
		t.Helper()
		for k := range env {
			if !documented[k] {
				t.Errorf("%s sets %s, which docs/configuration.md does not list", where, k)
			}
		}
		cfg, err := app.LoadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if cfg.RedisURL == "" {
			t.Errorf("%s: replicas without REDIS_URL share nothing", where)
		}
		if cfg.ShutdownDelay == 0 {
			t.Errorf("%s: no SHUTDOWN_DELAY: a stopping replica resets connections its load balancer just opened", where)
		}
	}

	t.Run("compose", func(t *testing.T) {
		raw, err := os.ReadFile("../../deploy/compose.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Services map[string]struct {
				Environment     map[string]string `yaml:"environment"`
				StopGracePeriod string            `yaml:"stop_grace_period"`
				Build           any               `yaml:"build"`
				Image           string            `yaml:"image"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		var redis []string
		for _, name := range []string{"replica-a", "replica-b"} {
			s, ok := c.Services[name]
			if !ok || s.Build == nil {
				t.Fatalf("service %s missing or not built from the Dockerfile", name)
			}
			env := map[string]string{}
			for k, v := range s.Environment {
				env[k] = v
			}
			env["SEATABLE_URL"] = "https://cloud.seatable.io" // ${SEATABLE_URL:?…} in the file
			checkEnv(t, "compose "+name, env)
			redis = append(redis, env["REDIS_URL"])
			cfg, _ := app.LoadConfig(func(k string) string { return env[k] })
			grace, err := time.ParseDuration(s.StopGracePeriod)
			if err != nil || grace <= cfg.ShutdownDelay+cfg.ShutdownTimeout {
				t.Errorf("%s: stop_grace_period %q must exceed SHUTDOWN_DELAY+SHUTDOWN_TIMEOUT (%v)", name, s.StopGracePeriod, cfg.ShutdownDelay+cfg.ShutdownTimeout)
			}
		}
		if redis[0] != redis[1] {
			t.Errorf("the replicas use different Redis: %v", redis)
		}
		nginx, err := os.ReadFile("../../deploy/nginx.conf")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"server replica-a:8080", "server replica-b:8080", "proxy_next_upstream error", "proxy_buffering off", "Upgrade $http_upgrade"} {
			if !bytes.Contains(nginx, []byte(want)) {
				t.Errorf("nginx.conf lacks %q", want)
			}
		}
	})

	t.Run("kubernetes", func(t *testing.T) {
		raw, err := os.ReadFile("../../deploy/kubernetes/seatable-graphql.yaml")
		if err != nil {
			t.Fatal(err)
		}
		type probe struct {
			HTTPGet struct{ Path string } `yaml:"httpGet"`
		}
		type object struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
			Spec struct {
				Replicas     int `yaml:"replicas"`
				MinAvailable int `yaml:"minAvailable"`
				Template     struct {
					Spec struct {
						TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
						Containers                    []struct {
							LivenessProbe  probe `yaml:"livenessProbe"`
							ReadinessProbe probe `yaml:"readinessProbe"`
							Resources      struct {
								Requests map[string]string `yaml:"requests"`
							} `yaml:"resources"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		kinds := map[string]object{}
		for _, part := range strings.Split(string(raw), "\n---\n") {
			var o object
			if err := yaml.Unmarshal([]byte(part), &o); err != nil {
				t.Fatal(err)
			}
			kinds[o.Kind] = o
		}
		for _, k := range []string{"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"} {
			if _, ok := kinds[k]; !ok {
				t.Errorf("no %s", k)
			}
		}
		env := map[string]string{"REDIS_URL": "redis://redis:6379/0"} // from the Secret
		for k, v := range kinds["ConfigMap"].Data {
			env[k] = v
		}
		checkEnv(t, "ConfigMap", env)
		cfg, _ := app.LoadConfig(func(k string) string { return env[k] })
		d := kinds["Deployment"].Spec
		if d.Replicas < 2 || kinds["PodDisruptionBudget"].Spec.MinAvailable < 1 {
			t.Errorf("replicas %d, PDB minAvailable %d", d.Replicas, kinds["PodDisruptionBudget"].Spec.MinAvailable)
		}
		pod := d.Template.Spec
		if grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second; grace <= cfg.ShutdownDelay+cfg.ShutdownTimeout {
			t.Errorf("terminationGracePeriodSeconds %v must exceed SHUTDOWN_DELAY+SHUTDOWN_TIMEOUT (%v)", grace, cfg.ShutdownDelay+cfg.ShutdownTimeout)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%d containers", len(pod.Containers))
		}
		c := pod.Containers[0]
		if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("probes %q and %q, want /healthz and /readyz", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
		}
		if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
			t.Errorf("no resource requests: %v", c.Resources.Requests)
		}
	})
}
