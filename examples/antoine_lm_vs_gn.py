"""MISSION use case 2: the Antoine equation, Levenberg-Marquardt against
Gauss-Newton, from three starts fitted at once (a batch of three).

Run: python examples/antoine_lm_vs_gn.py
"""

import numpy as np

import batchfit as bf
from batchfit.data import ANTOINE_BEST, ANTOINE_P, ANTOINE_STARTS, ANTOINE_T


def residual(p, T, P):
    return P - 10 ** (p["A"] + p["B"] / (T + p["C"]))


def main():
    starts = np.array(ANTOINE_STARTS)
    params = bf.Parameters()
    for j, name in enumerate("ABC"):
        params.add(name, starts[:, j])  # one start per fit of the batch
    print(f"best fit: A, B, C = {ANTOINE_BEST}")
    results = {}
    for method, opts in (("leastsq", {}), ("gauss_newton", {"xtol": 1e-4})):
        res = bf.minimize(residual, params, args=(ANTOINE_T, ANTOINE_P), method=method, **opts)
        results[method] = res
        for i, start in enumerate(ANTOINE_STARTS):
            vals = [float(res.params[n].value[i]) for n in "ABC"]
            flag = "converged" if res.success[i] else "FAILED   "
            print(f"{method:13s} from {start}: {flag} A={vals[0]:.9g} B={vals[1]:.9g} "
                  f"C={vals[2]:.9g} nfev={res.nfev[i]}  ({res.message[i]})")
    return results


if __name__ == "__main__":
    main()
