import type { Server } from 'node:http';

/**
 * How long a stopping server lets in-flight uploads and audio streams finish
 * before it cuts them; a supervisor's grace period (docker-compose.yml's
 * stop_grace_period, Kubernetes' terminationGracePeriodSeconds) must be longer,
 * with room to stop the workers and close the stores after it.
 */
export const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * Stops accepting connections and waits for in-flight requests (uploads,
 * audio streams) to finish; idle keep-alive connections close at once. A
 * client that stalls cannot hold the process: at the deadline every remaining
 * connection is cut. Resolves once the server is fully closed.
 */
export function closeGracefully(
  server: Server,
  options: { deadlineMs: number; onDeadline?: () => void },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      options.onDeadline?.();
      server.closeAllConnections();
    }, options.deadlineMs);
    deadline.unref();
    server.close((err) => {
      clearTimeout(deadline);
      if (err) reject(err);
      else resolve();
    });
    // Node closes idle keep-alive sockets on close(); say so explicitly for older minors of Node 20.
    server.closeIdleConnections();
  });
}
