/**
 * How a task is named in progress lines and messages: by its index, as the table, the accuracy
 * matrix (T0, T1, ...) and the metric names (`accuracy_task0`) name it, with the count beside it.
 */
export function taskLabel(index: number, numTasks: number): string {
  return `task ${index} (${index + 1} of ${numTasks})`;
}
