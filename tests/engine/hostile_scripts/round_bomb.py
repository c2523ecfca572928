# expect: runtime: round
x = round(5, -10**9)
