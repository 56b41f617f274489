import { z } from 'zod';

/** For procedures that take nothing: anything sent is refused rather than ignored. */
export const noInput = z.object({}).strict().optional();
