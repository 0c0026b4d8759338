"""The report of scripts/bench: one table per server, the ratios, and the targets with PASS
or MISS, as Markdown. Every number comes from the report dict the runs filled in."""

from pathlib import Path

from harness.servers import Config


def render(report: dict, config: Config) -> str:
    """The whole report; errors and failed parts are listed at its top and again at its end."""
    servers = report["servers"]
    errors = errors_of(servers)
    shout = []
    if errors:
        shout = [f"**!!! {len(errors)} scenario(s) got errors; their numbers are not valid:**",
                 ""]
        for server, scenario, r in errors:
            shout.append(f"- {server} / {scenario}: {r['non2xx']:,} non-2xx, "
                         f"{r['errors']:,} socket errors of {r['requests']:,} requests")
            shout += [f"  - {line}" for line in r.get("failures", [])]
        shout.append("")
    for name, err in report["failed"].items():
        shout += [f"**!!! {name} failed part way; its tables are partial or missing:** {err}",
                  ""]

    lines = ["# rollcall benchmark", "",
             f"{report['when']}; {report['cpus']} CPUs shared by every server and wrk; "
             f"wrk -t{config.threads} -c{config.conns} -d{config.duration}s; "
             f"{config.users:,} users, groups of {', '.join(f'{g:,}' for g in config.groups)}, "
             f"depth over {config.depth_users:,} users"
             + ("; **--quick: for trying the harness, not for numbers**" if config.quick
                else ""), ""]
    lines += shout
    if report.get("fsync_per_second"):
        samples = ", ".join(f"{r:,.0f}" for r in report["fsync_samples"])
        lines += [f"Disk: {report['fsync_per_second']:,.0f} single-row commits/s, the median "
                  f"of {samples} (sqlite3, WAL, synchronous=FULL, at the start and the end).",
                  ""]
    for name in ("axum", "rollcall sqlite", "rollcall postgres", "peer"):
        if name in servers:
            lines += server_table(name, servers[name], config)
    if servers.get("peer"):
        lines += ["The peer runs on Python's threaded stdlib server without keep-alive, so wrk "
                  "reconnects for each of its requests: only its req/s and p50 mean much.", ""]
    for name, note in report["skipped"].items():
        lines += [f"{name}: skipped ({note}).", ""]
    lines += [f"{note}." for note in report["notes"]] + ([""] if report["notes"] else [])
    if "axum" in servers or "peer" in servers:
        lines += ratios_table(servers, config)

    lines += ["### Targets", "", "| target | backend | measured | |", "|---|---|---|---|"]
    lines += [f"| {t} | {b} | {m} | {v} |" for t, b, m, v in targets(servers, report, config)
              if v != "–" or not config.only]
    lines.append("")

    lines += ["### Loading and memory", ""]
    for name, loaded in report["loads"].items():
        extra = ""
        if "users_per_second" in loaded:
            extra = f" ({loaded['users']:,} users at {loaded['users_per_second']:,.0f}/s)"
        lines.append(f"- load {name}: {loaded['wall_seconds']:.1f} s{extra}")
    if "cursor_walk_seconds" in report:
        lines.append(f"- walking the deep list for cursors: "
                     f"{report['cursor_walk_seconds']:.1f} s")
    for name, mem in report["memory"].items():
        lines.append(f"- {name} after its run: VmHWM {mem['VmHWM']:.1f} MiB, "
                     f"VmRSS {mem['VmRSS']:.1f} MiB")
    lines.append(f"- the whole run: {report['seconds'] / 60:.1f} min")
    lines.append("")
    return "\n".join(lines + shout)


def errors_of(servers: dict) -> list:
    """(server, scenario, result) of every run that got a non-2xx answer or a socket error."""
    found = []
    for server, results in servers.items():
        for scenario, r in results.items():
            if r["non2xx"] or r["errors"]:
                found.append((server, scenario, r))
    return found


def jsonable(value):
    """`value` as JSON can hold it, without the tokens."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "token"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def server_table(name: str, results: dict, config: Config) -> list:
    if not results:
        return []
    lines = [f"### {name}", "",
             "| scenario | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for scenario in config.scenarios():
        r = results.get(scenario)
        if r is None:
            continue
        flag = "**ERRORS**" if r["non2xx"] or r["errors"] else ""
        lines.append(f"| {scenario} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
                     f"| {r['requests']:,} | {r['non2xx']:,} | {r['errors']:,} | {flag} |")
    return lines + [""]


def ratios_table(servers: dict, config: Config) -> list:
    axum = servers.get("axum", {}).get("get_by_id", {}).get("rps")
    peer = servers.get("peer", {})
    columns = [s for s in ("rollcall sqlite", "rollcall postgres") if s in servers]
    header = ["scenario"]
    for s in columns:
        header += [f"{s} / axum", f"{s} / peer"]
    lines = ["### Ratios (req/s; axum is its GET by id, the ceiling for every scenario)", "",
             "| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for scenario in config.scenarios():
        cells, any_value = [scenario], False
        for s in columns:
            ours = servers[s].get(scenario, {}).get("rps")
            theirs = peer.get(scenario, {}).get("rps")
            any_value |= ours is not None
            cells += [fmt(ratio(ours, axum)), fmt(ratio(ours, theirs))]
        if any_value:
            lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def targets(servers: dict, report: dict, config: Config) -> list:
    """(target, backend, measured text, PASS/MISS/–) rows."""
    rows = []
    axum_run = servers.get("axum", {}).get("get_by_id")
    axum = axum_run and axum_run["rps"]
    fsync = report.get("fsync_per_second")
    small, large = f"member_{config.groups[0]}", f"member_{config.groups[-1]}"

    def check(target, backend, value, limit, at_most, text, inputs=()):
        if value is None:
            rows.append((target, backend, "not measured", "–"))
            return
        if any(r["non2xx"] or r["errors"] for r in inputs):
            rows.append((target, backend, text, "**INVALID: a scenario got errors**"))
            return
        ok = value <= limit if at_most else value >= limit
        rows.append((target, backend, text, "PASS" if ok else "MISS"))

    for backend in ("rollcall sqlite", "rollcall postgres"):
        if backend not in servers:
            continue
        r = servers[backend]
        rps = lambda name: r.get(name, {}).get("rps")  # noqa: E731
        p50 = lambda name: r.get(name, {}).get("p50_ms")  # noqa: E731

        def of(*names, axum_too=False):
            """The runs a verdict rests on."""
            return [r[n] for n in names if n in r] + ([axum_run] if axum_too and axum_run else [])

        short = backend.split()[1]
        get = ratio(rps("get_by_id"), axum)
        check("GET by id ≥ 0.5× axum", short, get, 0.5, False, fmt(get),
              of("get_by_id", axum_too=True))
        eq = ratio(rps("filter_username"), axum)
        check("userName eq ≥ 0.4× axum", short, eq, 0.4, False, fmt(eq),
              of("filter_username", axum_too=True))
        if backend == "rollcall sqlite":
            deep = ratio(rps("filter_username"), rps("filter_username_deep"))
            check(f"userName eq at {config.depth_users:,} ≤ 1.2× slower than at "
                  f"{config.users:,}", short, deep, 1.2, True,
                  f"{fmt(deep)} ({rps('filter_username') or 0:,.0f}/s at {config.users:,}, "
                  f"{rps('filter_username_deep') or 0:,.0f}/s at {config.depth_users:,})",
                  of("filter_username", "filter_username_deep"))
        creates = ratio(rps("create"), fsync)
        check("durable creates ≥ 2× the disk's fsync rate", short, creates, 2.0, False,
              f"{fmt(creates)} ({rps('create') or 0:,.0f}/s vs {fsync or 0:,.0f} commits/s)",
              of("create"))
        member = ratio(p50(large), p50(small))
        check(f"member add/remove p50 at {config.groups[-1]:,} ≤ 1.2× at {config.groups[0]}",
              short, member, 1.2, True, fmt(member), of(small, large))
    mem = report["memory"].get("rollcall sqlite, depth")
    rss = mem and mem.get("VmRSS")
    when = "after the depth scenarios" if servers.get("rollcall sqlite", {}).get(
        "filter_username_deep") else "idle (no depth scenario ran)"
    check(f"RSS ≤ 64 MiB serving {config.depth_users:,} users", "sqlite", rss, 64, True,
          f"VmRSS {rss:.1f} MiB {when} (peak VmHWM {mem['VmHWM']:.1f})" if mem else "")
    startup = report.get("startup_ms", {}).get("median")
    check("start-up to ready ≤ 200 ms", "sqlite", startup, 200, True,
          f"{startup:.0f} ms (median of 5)" if startup is not None else "")
    return rows


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(value, digits=2, suffix="×"):
    return "–" if value is None else f"{value:.{digits}f}{suffix}"
