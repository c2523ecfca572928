# expect: runtime: lățimile
x = '{:>{}}'.format(1, 10**9)
