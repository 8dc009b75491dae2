/**
 * The backend contract (tests/_fixtures/backend_contract.ts) on the simulator: always runs, no root.
 * The same suite runs on Open vSwitch in tests/backend_contract_real.test.ts.
 */
import { SimBackend } from "../sim/backend.ts";
import { backendContract, type ContractNames } from "./_fixtures/backend_contract.ts";

backendContract("sim", () => {
  const backend = new SimBackend();
  return Promise.resolve({
    backend,
    cleanup: () => Promise.resolve(),
    leftovers: ({ bridge, ports }: ContractNames) => {
      const left: string[] = [];
      if (backend.network.hasBridge(bridge)) left.push(`bridge ${bridge}`);
      for (const port of ports) {
        if (backend.host(port) !== undefined) left.push(`host behind ${port}`);
        const on = backend.bridgeOf(port);
        if (on !== undefined) left.push(`port ${port} on ${on}`);
      }
      return Promise.resolve(left);
    },
  });
});
