// Reports for supervisors and admins: opened/resolved per day (a Chart.js chart, loaded
// on first use), first response, resolution and queue wait (median, p90; business hours
// aware), CSAT, and a CSV export.
import { useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { Group } from "../lib/types";
import { ErrorNote } from "../components/common";

interface Stat {
  count: number;
  median: number | null;
  p90: number | null;
}
interface Metric extends Stat {
  by_group: Record<string, Stat>;
  by_agent: Record<string, Stat>;
}
export interface Report {
  since: string;
  until: string;
  days: { date: string; opened: number; resolved: number }[];
  first_response: Metric;
  resolution: Metric;
  queue_wait: Metric;
  csat: { count: number; average: number | null; distribution: Record<string, number>; by_agent: Record<string, { count: number; average: number }>; comments: { rating: number; comment: string }[] };
  names: Record<string, string>;
  groups: Record<string, string>;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

const RANGES = [7, 30, 90];

export function Reports({ api, groups }: { api: Api; groups: Group[] }) {
  const [days, setDays] = useState(30);
  const [group, setGroup] = useState("");
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  const query = () => {
    const since = new Date(Date.now() - days * 86400_000).toISOString();
    return `since=${encodeURIComponent(since)}${group ? `&group_id=${group}` : ""}`;
  };

  useEffect(() => {
    let gone = false;
    api.get<Report>(`/inbox/reports?${query()}`).then(
      (r) => !gone && (setReport(r), setError(null)),
      (e) => !gone && setError(describeError(e)),
    );
    return () => {
      gone = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, days, group]);

  useEffect(() => {
    if (!report || !canvas.current) return;
    let chart: { destroy(): void } | null = null;
    let gone = false;
    void import("chart.js/auto").then(({ default: Chart }) => {
      if (gone || !canvas.current) return;
      chart = new Chart(canvas.current, {
        type: "bar",
        data: {
          labels: report.days.map((d) => d.date.slice(5)),
          datasets: [
            { label: "Opened", data: report.days.map((d) => d.opened), backgroundColor: "#2563eb" },
            { label: "Resolved", data: report.days.map((d) => d.resolved), backgroundColor: "#16a34a" },
          ],
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    });
    return () => {
      gone = true;
      chart?.destroy();
    };
  }, [report]);

  const download = async () => {
    try {
      const blob = await api.request<Blob>("GET", `/inbox/reports.csv?${query()}`, undefined, false, "blob");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "raasel-report.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const name = (id: string) => report?.names[id] ?? report?.groups[id] ?? id;
  return (
    <section className="reports" aria-labelledby="reports-title">
      <div className="reports-head">
        <h2 id="reports-title">Reports</h2>
        <label>
          Period{" "}
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
          </select>
        </label>
        <label>
          Group{" "}
          <select value={group} onChange={(e) => setGroup(e.target.value)}>
            <option value="">All groups</option>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary small-button" onClick={() => void download()}>
          Export CSV
        </button>
      </div>
      <ErrorNote error={error} />
      {report && (
        <>
          <div className="kpis">
            <Kpi label="Opened" value={String(report.days.reduce((n, d) => n + d.opened, 0))} />
            <Kpi label="Resolved" value={String(report.days.reduce((n, d) => n + d.resolved, 0))} />
            <Kpi label="First response (median)" value={duration(report.first_response.median)} hint={`p90 ${duration(report.first_response.p90)}`} />
            <Kpi label="Resolution (median)" value={duration(report.resolution.median)} hint={`p90 ${duration(report.resolution.p90)}`} />
            <Kpi label="Queue wait (median)" value={duration(report.queue_wait.median)} hint={`p90 ${duration(report.queue_wait.p90)}`} />
            <Kpi label="CSAT" value={report.csat.average === null ? "—" : `${report.csat.average} / 5`} hint={`${report.csat.count} ratings`} />
          </div>
          <div className="chart-box">
            <canvas ref={canvas} aria-label="Conversations opened and resolved per day" role="img" />
          </div>
          <div className="table-scroll">
            <table className="report-table">
              <caption>By agent</caption>
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">First response (median / p90)</th>
                  <th scope="col">Resolution (median / p90)</th>
                  <th scope="col">CSAT</th>
                </tr>
              </thead>
              <tbody>
                {[...new Set([...Object.keys(report.first_response.by_agent), ...Object.keys(report.resolution.by_agent), ...Object.keys(report.csat.by_agent)])].map((id) => (
                  <tr key={id}>
                    <th scope="row">{name(id)}</th>
                    <td>{pair(report.first_response.by_agent[id])}</td>
                    <td>{pair(report.resolution.by_agent[id])}</td>
                    <td>{report.csat.by_agent[id] ? `${report.csat.by_agent[id].average} (${report.csat.by_agent[id].count})` : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {report.csat.comments.length > 0 && (
            <>
              <h3 className="section-title">Latest comments</h3>
              <ul className="comments">
                {report.csat.comments.map((c, i) => (
                  <li key={i}>
                    <strong>{"★".repeat(c.rating)}</strong> {c.comment}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}

function pair(s: Stat | undefined): string {
  return s ? `${duration(s.median)} / ${duration(s.p90)}` : "—";
}

function Kpi({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="kpi" data-kpi={label}>
      <span className="kpi-label">{label}</span>
      <strong className="kpi-value">{value}</strong>
      {hint && <span className="muted small">{hint}</span>}
    </div>
  );
}
