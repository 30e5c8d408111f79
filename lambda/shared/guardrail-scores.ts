/**
 * The Bedrock guardrail's contextual grounding scores as evaluators beside the model (issue 17 A): where a guardrail
 * with a contextual grounding policy is applied to a Converse call and its trace is enabled, the response's
 * `trace.guardrail` carries, per guardrail, the grounding and relevance score of the model's answer. The runtime
 * extracts them from what the service hands it (AnswerEvidence.guardrailTrace) into the evaluation sample; the
 * evaluator writes them as `source: 'guardrail'` scores of the criteria groundedness and relevance, under keys of
 * their own (`guardrail-groundedness`, `guardrail-relevance`: score-keys.ts), apart from the model's scores of the
 * same criteria. Pure: no SDK, no clock.
 *
 * Shapes, from the Amazon Bedrock API Reference (runtime data types):
 * - ConverseTrace.guardrail: GuardrailTraceAssessment — `inputAssessment` (map of guardrail id to
 *   GuardrailAssessment), `outputAssessments` (map of guardrail id to an ARRAY of GuardrailAssessment), `modelOutput`,
 *   `actionReason`.
 * - GuardrailAssessment.contextualGroundingPolicy: GuardrailContextualGroundingPolicyAssessment — `filters`, an array
 *   of GuardrailContextualGroundingFilter.
 * - GuardrailContextualGroundingFilter: `type` GROUNDING | RELEVANCE, `threshold` (double 0..1), `score` (double
 *   0..1), `action` BLOCKED | NONE, all required; `detected` (boolean, newer SDKs) optional.
 * The check needs a grounding source and a query in the request (guardContent qualifiers `grounding_source` and
 * `query`; Bedrock User Guide, "Use contextual grounding check to filter hallucinations in responses"); without them
 * the trace has no contextual grounding assessment, and nothing is extracted.
 *
 * Several output assessments of one guardrail (the answer assessed in chunks): the User Guide (same page) says the
 * whole response is relevant when any chunk is relevant, so the answer's relevance is the HIGHEST chunk score; for
 * groundedness it says only that new information in the response counts as ungrounded, and we take the LOWEST chunk
 * score (an assumption: one ungrounded chunk makes the answer ungrounded).
 */

/** One contextual grounding filter result, as the trace carries it. */
export interface GuardrailContextualGroundingFilter {
  readonly type?: string;
  readonly threshold?: number;
  readonly score?: number;
  readonly action?: string;
  readonly detected?: boolean;
}

/** The part of Converse's `trace.guardrail` (GuardrailTraceAssessment) the scores come from. */
export interface GuardrailTraceAssessment {
  readonly outputAssessments?: Readonly<
    Record<string, readonly { readonly contextualGroundingPolicy?: { readonly filters?: readonly GuardrailContextualGroundingFilter[] } }[]>
  >;
}

/** One of the two scores of an answer: the guardrail's score, its threshold, and whether it blocked the answer. */
export interface GuardrailScore {
  /** 0..1, larger is better (more grounded, more relevant). */
  readonly score: number;
  readonly threshold: number;
  /** True when the guardrail blocked the answer on this filter (action BLOCKED). */
  readonly blocked: boolean;
}

/** The guardrail's contextual grounding scores of one answer, as the evaluation sample carries them. */
export interface GuardrailScores {
  /** The guardrail the scores are of (the trace's key: a guardrail id or ARN). */
  readonly guardrail: string;
  readonly groundedness?: GuardrailScore;
  readonly relevance?: GuardrailScore;
}

/** The criteria a guardrail scores (its contextual grounding filters GROUNDING and RELEVANCE). */
export const GUARDRAIL_CRITERIA = ['groundedness', 'relevance'] as const;

const FILTER_CRITERION = { GROUNDING: 'groundedness', RELEVANCE: 'relevance' } as const;

const isScore = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;

/**
 * The contextual grounding scores in a guardrail trace, or undefined when there are none (no trace, a trace without
 * the policy, scores out of the documented range). `guardrailId`, when given, picks that guardrail's assessments
 * (Converse applies one guardrail, so the trace has one key; the id may be written as id or ARN, so a key that ends
 * with `/<id>` matches too); otherwise the first guardrail with scores. Never throws: the trace comes from outside.
 */
export function guardrailScores(trace: unknown, guardrailId?: string): GuardrailScores | undefined {
  try {
    const out = (trace as GuardrailTraceAssessment | null | undefined)?.outputAssessments;
    if (!out || typeof out !== 'object') return undefined;
    const want = guardrailId?.split('/').pop();
    for (const [key, assessments] of Object.entries(out)) {
      if (want !== undefined && key !== guardrailId && key.split('/').pop() !== want) continue;
      if (!Array.isArray(assessments)) continue;
      let groundedness: GuardrailScore | undefined;
      let relevance: GuardrailScore | undefined;
      for (const a of assessments) {
        const filters = a?.contextualGroundingPolicy?.filters;
        if (!Array.isArray(filters)) continue;
        for (const f of filters) {
          const criterion = FILTER_CRITERION[f?.type as keyof typeof FILTER_CRITERION];
          if (!criterion || !isScore(f.score)) continue;
          const s: GuardrailScore = { score: f.score, threshold: isScore(f.threshold) ? f.threshold : 0, blocked: f.action === 'BLOCKED' };
          // Groundedness: the lowest chunk; relevance: the highest (see the file's comment). A block on any chunk stands.
          if (criterion === 'groundedness')
            groundedness = !groundedness ? s : { ...(s.score < groundedness.score ? s : groundedness), blocked: s.blocked || groundedness.blocked };
          else relevance = !relevance ? s : { ...(s.score > relevance.score ? s : relevance), blocked: s.blocked || relevance.blocked };
        }
      }
      if (groundedness || relevance) return { guardrail: key, ...(groundedness ? { groundedness } : {}), ...(relevance ? { relevance } : {}) };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The evaluator's scores from a sample's guardrail scores: `source: 'guardrail'`, on the guardrail's 0..1 scale. */
export function guardrailCriterionScores(g: GuardrailScores | undefined): {
  readonly criterion: 'groundedness' | 'relevance';
  readonly score: number;
  readonly reason: string;
  readonly source: 'guardrail';
}[] {
  if (!g) return [];
  const out: ReturnType<typeof guardrailCriterionScores> = [];
  for (const criterion of GUARDRAIL_CRITERIA) {
    const s = g[criterion];
    if (!s || !isScore(s.score)) continue;
    out.push({
      criterion,
      score: s.score,
      reason: `guardrail ${g.guardrail}: ${criterion} ${s.score} (threshold ${s.threshold}${s.blocked ? ', blocked' : ''})`,
      source: 'guardrail',
    });
  }
  return out;
}

/** A regression case's floors on the guardrail's scores (0..1): CaseExpectation.minGuardrailScores. */
export type GuardrailFloors = Readonly<Partial<Record<(typeof GUARDRAIL_CRITERIA)[number], number>>>;

/** What is wrong with a case's guardrail floors, naming the field and the fix, or undefined. */
export function guardrailFloorsProblem(floors: unknown, field = 'expectation.minGuardrailScores'): string | undefined {
  if (floors === null || typeof floors !== 'object' || Array.isArray(floors))
    return `${field} must be an object of criterion: floor on the guardrail's 0..1 scale, e.g. { "groundedness": 0.75 }`;
  for (const [criterion, floor] of Object.entries(floors)) {
    if (!(GUARDRAIL_CRITERIA as readonly string[]).includes(criterion))
      return `${field}.${criterion} is not a guardrail criterion; use ${GUARDRAIL_CRITERIA.join(' or ')}`;
    if (!isScore(floor)) return `${field}.${criterion} must be a number from 0 to 1 (the guardrail's scale), got ${JSON.stringify(floor)}`;
  }
  return undefined;
}

/**
 * A replay's guardrail scores against a case's floors. A score under its floor fails the replay; a floored criterion
 * the replay has no score for is a note, not a failure: the guardrail scores an answer only when the request had a
 * grounding source (a candidate that retrieves nothing, or answers from a tool, has none), so a missing score never
 * fails a case by itself, and the report says it was not judged.
 */
export function guardrailFloorCheck(floors: GuardrailFloors, g: GuardrailScores | undefined): { failures: string[]; notes: string[] } {
  const failures: string[] = [];
  const notes: string[] = [];
  for (const criterion of GUARDRAIL_CRITERIA) {
    const floor = floors[criterion];
    if (floor === undefined) continue;
    const s = g?.[criterion];
    if (!s)
      notes.push(
        `note: no guardrail ${criterion} score in the replay (no grounding source, no contextual grounding policy, or no trace): its floor ${floor} was not judged`,
      );
    else if (s.score < floor) failures.push(`guardrail: ${criterion} ${s.score} is under the case's floor ${floor} (guardrail ${g?.guardrail})`);
  }
  return { failures, notes };
}

/** A score the guardrail itself flags: under the threshold its contextual grounding filter was configured with. */
export interface GuardrailLowScore {
  readonly criterion: (typeof GUARDRAIL_CRITERIA)[number];
  readonly score: number;
  readonly threshold: number;
  readonly guardrail: string;
}

/** The answer's scores under the guardrail's own thresholds (a threshold of 0 flags nothing). */
export function guardrailLowScores(g: GuardrailScores | undefined): GuardrailLowScore[] {
  if (!g) return [];
  const out: GuardrailLowScore[] = [];
  for (const criterion of GUARDRAIL_CRITERIA) {
    const s = g[criterion];
    if (s && s.score < s.threshold) out.push({ criterion, score: s.score, threshold: s.threshold, guardrail: g.guardrail });
  }
  return out;
}

/** The failure record's detail line of a low guardrail score (the snapshot reads the threshold back as the case's floor). */
export function guardrailLowDetail(l: GuardrailLowScore): string {
  return `guardrail: ${l.criterion} ${l.score} is under the guardrail's threshold ${l.threshold} (guardrail ${l.guardrail})`;
}

const LOW_DETAIL = /^guardrail: (groundedness|relevance) \S+ is under the guardrail's threshold (\d+(?:\.\d+)?(?:e-?\d+)?)/;

/** The guardrail floors a candidate case takes from its record's detail lines (guardrailLowDetail), or undefined. */
export function guardrailFloorsFromDetails(details: readonly string[] | undefined): GuardrailFloors | undefined {
  const floors: { -readonly [K in keyof GuardrailFloors]: number } = {};
  for (const d of details ?? []) {
    const m = LOW_DETAIL.exec(d);
    if (!m) continue;
    const t = Number(m[2]);
    const c = m[1] as keyof GuardrailFloors;
    // Several records of one input: the strictest threshold seen.
    if (isScore(t)) floors[c] = Math.max(floors[c] ?? 0, t);
  }
  return Object.keys(floors).length > 0 ? floors : undefined;
}
