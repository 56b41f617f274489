import { z } from 'zod';

export const roles = ['owner', 'user-admin', 'template-admin', 'auditor', 'member'] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

export const userStatuses = ['active', 'suspended'] as const;
export type UserStatus = (typeof userStatuses)[number];

export const usernameSchema = z
  .string()
  .min(1, 'Username must not be empty.')
  .max(32, 'Username must be at most 32 characters.')
  .regex(
    /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/,
    'Username may use lowercase letters, digits, "-" and "_", and must start and end with a letter or digit.',
  );

export const emailSchema = z
  .string()
  .max(254, 'Email must be at most 254 characters.')
  .email('Email is not a valid address.');

export const passwordSchema = z
  .string()
  .min(8, 'Password must be at least 8 characters.')
  .max(256, 'Password must be at most 256 characters.');

/** A user as every API returns it: never the password hash. */
export const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  status: z.enum(userStatuses),
  roles: z.array(roleSchema),
  createdAt: z.string(),
  lastSeenAt: z.string().nullable(),
});
export type User = z.infer<typeof userSchema>;

export const createFirstUserInput = z
  .object({ username: usernameSchema, email: emailSchema, password: passwordSchema })
  .strict();

export const createUserInput = z
  .object({
    username: usernameSchema,
    email: emailSchema,
    password: passwordSchema,
    roles: z.array(roleSchema).max(roles.length).optional(),
  })
  .strict();

export const userRefInput = z.object({ username: usernameSchema }).strict();

export const setRolesInput = z
  .object({ username: usernameSchema, roles: z.array(roleSchema).max(roles.length) })
  .strict();

export const listUsersInput = z
  .object({
    search: z.string().max(100).optional(),
    status: z.enum(userStatuses).optional(),
    role: roleSchema.optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    offset: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict()
  .optional();

export const changePasswordInput = z
  .object({ currentPassword: z.string().max(256), newPassword: passwordSchema })
  .strict();
