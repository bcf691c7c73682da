import { assertExecution, type ExecutionJson, type ExecutionUpdate } from '@flowmonkey/core';
import { newExecution } from '@flowmonkey/core/testing';
import { describe, expect, it } from 'vitest';
import { type UpdateDocument, updateManyDocuments } from '../src/execution-update-documents.js';

function item(id: string, note: string): [ExecutionUpdate, ExecutionJson] {
  const at = Date.UTC(2026, 11, 1, 12, 0, 0, 7);
  const execution = newExecution({
    id,
    currentStepId: 'step',
    input: { note },
    context: { input: { note } },
    stepCount: 1,
    version: 3,
    createdAt: at,
    updatedAt: at,
  });
  return [{ execution, expectedVersion: 3 }, assertExecution(execution)];
}

const ids = (documents: UpdateDocument[]) =>
  documents.map((d) => {
    const rows = (JSON.parse(d.json) as { id: string }[]).map((row) => row.id);
    expect(d.rows).toBe(rows.length);
    return rows;
  });

describe('updateManyDocuments', () => {
  it('writes every row as JSON the recordset reads, times as ISO text', () => {
    const [document] = updateManyDocuments([item('a', 'x "quoted" \\ \n')]);
    expect(document?.rows).toBe(1);
    expect(JSON.parse(document?.json ?? '')).toEqual([
      expect.objectContaining({
        id: 'a',
        input: { note: 'x "quoted" \\ \n' },
        version: 3,
        wake_at: null,
        created_at: '2026-12-01T12:00:00.007Z',
      }),
    ]);
  });

  it('splits a batch into documents of at most maxChars, keeping the order of the rows', () => {
    const items = ['a', 'b', 'c', 'd', 'e'].map((id) => item(id, 'n'.repeat(100)));
    const one = updateManyDocuments(items.slice(0, 1))[0]?.json.length ?? 0;
    const documents = updateManyDocuments(items, 2 * one + 10);
    expect(ids(documents)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    for (const d of documents) expect(d.json.length).toBeLessThanOrEqual(2 * one + 10);
    expect(ids(updateManyDocuments(items))).toEqual([['a', 'b', 'c', 'd', 'e']]);
  });

  it('gives a row larger than maxChars a document of its own', () => {
    const items = [item('a', 'n'), item('b', 'n'.repeat(500)), item('c', 'n')];
    expect(ids(updateManyDocuments(items, 300))).toEqual([['a'], ['b'], ['c']]);
  });
});
