# expect: runtime: memorie
x = [0] * 10**9
