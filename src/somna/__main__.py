from somna.cli import main

main()
