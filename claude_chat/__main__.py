from claude_chat.cli import main

main()
