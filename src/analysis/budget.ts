/**
 * Work limits for one image (issue 16: hostile or huge inputs). Every decoded instruction
 * and every data-flow step is charged here; past a limit the analysis stops with
 * BudgetExceeded, which analyze() turns into an "incomplete analysis" entry naming the rule
 * and the limit — never a hang, never an out-of-memory crash.
 */

export interface BudgetLimits {
  /** Instructions decoded for one image (discovery and function bodies, re-decodes included). */
  instructions: number;
  /** Backward data-flow steps for one image (all queries of all rules). */
  flowSteps: number;
  /** Decoded instructions kept in memory at once; past it the cache is emptied and refilled. */
  cachedInstructions: number;
  /** Instructions recursive descent decodes to find functions (x86, x64 without .pdata). */
  descentInstructions: number;
  /** Functions recursive descent keeps (a chain of `call next` makes one per instruction). */
  descentFunctions: number;
}

/**
 * Generous for real drivers — the busiest corpus image decodes about 43,000 instructions and
 * takes under 10,000 flow steps — and bounded for hostile ones: 20M instructions is about
 * ten seconds of decoding; 500,000 cached instructions are about 100 MB; descent stopping at
 * 1M instructions / 100,000 functions keeps discovery under about 10 s and 500 MB.
 */
export const DEFAULT_LIMITS: BudgetLimits = {
  instructions: 20_000_000,
  flowSteps: 50_000_000,
  cachedInstructions: 500_000,
  descentInstructions: 1_000_000,
  descentFunctions: 100_000,
};

export class BudgetExceeded extends Error {
  constructor(
    readonly what: keyof BudgetLimits,
    readonly limit: number,
  ) {
    super(`${what === 'instructions' ? 'decoded-instruction' : 'data-flow step'} budget of ${limit.toLocaleString('en-US')} exhausted`);
    this.name = 'BudgetExceeded';
  }
}

export class Budget {
  private instructions = 0;
  private flowSteps = 0;

  constructor(readonly limits: BudgetLimits = DEFAULT_LIMITS) {}

  chargeInstructions(n = 1): void {
    this.instructions += n;
    if (this.instructions > this.limits.instructions) throw new BudgetExceeded('instructions', this.limits.instructions);
  }

  chargeFlowSteps(n: number): void {
    this.flowSteps += n;
    if (this.flowSteps > this.limits.flowSteps) throw new BudgetExceeded('flowSteps', this.limits.flowSteps);
  }

  get used(): { instructions: number; flowSteps: number } {
    return { instructions: this.instructions, flowSteps: this.flowSteps };
  }
}
