/** Credentials MLflow's own clients read from the environment. */
export interface TrackingAuth {
  username?: string;
  password?: string;
  token?: string;
}

export function authFromEnv(env: NodeJS.ProcessEnv = process.env): TrackingAuth {
  return {
    username: env.MLFLOW_TRACKING_USERNAME || undefined,
    password: env.MLFLOW_TRACKING_PASSWORD || undefined,
    token: env.MLFLOW_TRACKING_TOKEN || undefined,
  };
}

/** Bearer token wins over basic auth, as in the MLflow Python client. */
export function authorizationHeader(auth: TrackingAuth): string | undefined {
  if (auth.token) return `Bearer ${auth.token}`;
  if (auth.username !== undefined || auth.password !== undefined) {
    return `Basic ${Buffer.from(`${auth.username ?? ""}:${auth.password ?? ""}`).toString("base64")}`;
  }
  return undefined;
}
