/** Handing Helm 3's client-side field ownership over to its server-side apply entry (csaupgrade's rules). */
import { handedOver, type ManagedFieldsEntry } from '../../src/execution/helm/field-ownership.js';

const entry = (manager: string, operation: string, fieldsV1: object, extra: Partial<ManagedFieldsEntry> = {}): ManagedFieldsEntry => ({
  manager,
  operation,
  apiVersion: 'apps/v1',
  time: '2024-05-01T00:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1: fieldsV1 as ManagedFieldsEntry['fieldsV1'],
  ...extra,
});

describe('field ownership handover', () => {
  it("turns helm's Update entry into its Apply entry, leaving other managers alone", () => {
    const controller = entry('kube-controller-manager', 'Update', { 'f:status': { 'f:replicas': {} } });
    const result = handedOver([entry('helm', 'Update', { 'f:spec': { 'f:replicas': {} } }), controller], 'helm', false);
    expect(result).toEqual([entry('helm', 'Apply', { 'f:spec': { 'f:replicas': {} } }), controller]);
  });

  it("merges the Update entry into an existing Apply entry of the same apiVersion and drops helm's Update entries", () => {
    const result = handedOver(
      [
        entry('helm', 'Apply', { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:image': {} } } } } } }),
        entry('helm', 'Update', { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:env': {} } } } } } }),
        entry('helm', 'Update', { 'f:metadata': {} }, { apiVersion: 'apps/v1beta1' }),
      ],
      'helm',
      false,
    );
    expect(result).toEqual([entry('helm', 'Apply', { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:image': {}, 'f:env': {} } } } } } })]);
  });

  it('releases spec.replicas, removing maps it leaves empty', () => {
    expect(handedOver([entry('helm', 'Apply', { 'f:spec': { 'f:replicas': {} }, 'f:metadata': { 'f:labels': {} } })], 'helm', true)).toEqual([
      entry('helm', 'Apply', { 'f:metadata': { 'f:labels': {} } }),
    ]);
  });

  it('needs no handover when helm owns nothing client-side, or its Apply entry is already as wanted', () => {
    expect(handedOver([entry('kubectl', 'Update', { 'f:spec': {} })], 'helm', true)).toBeUndefined();
    expect(handedOver([entry('helm', 'Apply', { 'f:spec': { 'f:template': {} } })], 'helm', true)).toBeUndefined();
    expect(handedOver([], 'helm', false)).toBeUndefined();
  });

  it('leaves subresource entries alone', () => {
    const status = entry('helm', 'Update', { 'f:status': {} }, { subresource: 'status' });
    expect(handedOver([status], 'helm', false)).toBeUndefined();
  });
});
