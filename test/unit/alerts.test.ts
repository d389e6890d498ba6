import { readFile } from 'node:fs/promises';
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/durations.js';
import { createMetrics } from '../../src/metrics.js';
import { READINESS_CHECKS } from '../../src/readiness.js';
import { WORKER_NAMES } from '../../src/workers.js';

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const loadRules = async (): Promise<Rule[]> => {
  const doc = parse(await readFile('docs/alerts.yml', 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
};

/** The series names the vault serves, each with its label names (a histogram as _bucket, _sum and _count). */
function exposedSeries(): Map<string, Set<string>> {
  const metrics = createMetrics({ defaultMetrics: true });
  const series = new Map<string, Set<string>>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const raw: unknown = (metric as { labelNames?: unknown }).labelNames;
    const labels = new Set(Array.isArray(raw) ? raw.map(String) : []);
    if (String(metric.type) === 'histogram') {
      series.set(`${metric.name}_bucket`, new Set([...labels, 'le']));
      series.set(`${metric.name}_sum`, labels);
      series.set(`${metric.name}_count`, labels);
    } else series.set(metric.name, labels);
  }
  return series;
}

interface Selector {
  metric: string;
  matchers: { label: string; value: string }[];
}

/** Parses with Prometheus' own PromQL grammar; returns its syntax errors and the vector selectors it names. */
function parsePromQL(expr: string): { errors: string[]; selectors: Selector[] } {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to);
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) errors.push(`at ${ref.from}: ${JSON.stringify(expr.slice(ref.from, ref.from + 20))}`);
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const metric = node.getChild('Identifier');
      const matchers: Selector['matchers'] = [];
      for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        const value = matcher.getChild('StringLiteral');
        if (label && value) matchers.push({ label: text(label), value: text(value).slice(1, -1) });
      }
      selectors.push({ metric: metric ? text(metric) : '', matchers });
    },
  });
  return { errors, selectors };
}

describe('docs/alerts.yml', () => {
  it('covers what the on-call engineer must hear about: readiness, a stalled sweeper, 5xx, integrity', async () => {
    const names = (await loadRules()).map((r) => r.alert);
    expect(names).toEqual(
      expect.arrayContaining([
        'VaultNotReady',
        'VaultSweeperStalled',
        'VaultSequencerStalled',
        'VaultSequencerBehind',
        'VaultHigh5xxRate',
        'VaultIntegrityFailure',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('has rules that Prometheus accepts: a name, a PromQL expression that parses, a valid for, severity, summary', async () => {
    for (const rule of await loadRules()) {
      const at = rule.alert ?? JSON.stringify(rule);
      expect(rule.alert, at).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(typeof rule.expr, at).toBe('string');
      expect(parsePromQL(rule.expr ?? '').errors, at).toEqual([]);
      if (rule.for !== undefined) expect(parseDuration(rule.for), at).not.toBeNull();
      expect(['page', 'ticket'], at).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, at).toBeTruthy();
    }
  });

  it('names only metrics and labels the vault exposes, and only workers and checks that exist', async () => {
    const series = exposedSeries();
    for (const rule of await loadRules()) {
      const { selectors } = parsePromQL(rule.expr ?? '');
      expect(selectors.length, rule.alert).toBeGreaterThan(0);
      for (const { metric, matchers } of selectors) {
        const at = `${rule.alert}: ${metric}`;
        expect([...series.keys()], at).toContain(metric);
        for (const { label, value } of matchers) {
          expect([...(series.get(metric) ?? [])], `${at}{${label}}`).toContain(label);
          if (label === 'worker') expect(WORKER_NAMES, at).toContain(value);
          if (label === 'check') expect(READINESS_CHECKS, at).toContain(value);
        }
      }
    }
  });

  it('is the rules test: a metric the vault does not serve, or a broken expression, is caught', () => {
    expect(parsePromQL('rate(vault_http_requests_total[5m) > ').errors).not.toEqual([]);
    const series = exposedSeries();
    const { selectors } = parsePromQL('vault_sweeper_last_run_seconds{worker="sweeper"} > 1');
    expect(series.has(selectors[0]!.metric)).toBe(false);
    expect(series.get('vault_worker_last_success_timestamp_seconds')).toEqual(new Set(['worker']));
    expect(series.get('vault_http_request_duration_seconds_bucket')).toEqual(
      new Set(['method', 'route', 'status', 'le']),
    );
  });
});
