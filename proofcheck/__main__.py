from proofcheck.cli import main

main()
